import Foundation

/// Why the primary will not stream from a replica's position.
public enum StreamRefusal: Error, Sendable, Equatable {
    /// The replica follows another history: re-bootstrap.
    case generationMismatch(current: Generation)
    /// The replica's chain at its position differs from this log's: its copy holds
    /// transactions this primary never had (same generation, other history). Re-bootstrap.
    case diverged(at: TxID)
    /// The records after the position were trimmed from the log: re-bootstrap.
    case snapshotRequired(oldestAvailable: TxID)
    /// The position is past the end of this primary's log: re-bootstrap.
    case ahead(last: TxID)
}

extension ReplicationSource {
    /// Checks that a replica at `after` on `generation`, whose chain value there is `checksum`
    /// (when it says), can be streamed to. A replica claiming more than this log holds, or a
    /// different chain value at `after`, holds transactions this primary lacks.
    public func checkStart(after: UInt64, generation: Generation?, checksum: UInt32? = nil) throws(StreamRefusal) {
        if let generation, generation != log.generation { throw .generationMismatch(current: log.generation) }
        if after > log.lastTxid { throw .ahead(last: log.lastTxid) }
        let first = log.firstTxid
        if first > 0, after + 1 < first { throw .snapshotRequired(oldestAvailable: first) }
        if first == 0, after < log.lastTxid { throw .snapshotRequired(oldestAvailable: log.lastTxid + 1) }
        guard let checksum else { return }
        let ours: UInt32
        do {
            ours = try log.checksum(at: after)
        } catch ReplicationLogError.trimmed(let oldest) {
            throw .snapshotRequired(oldestAvailable: oldest)
        } catch ReplicationLogError.ahead(let last) {
            throw .ahead(last: last)
        } catch {
            // An unreadable segment: the replica cannot be streamed to from here either way.
            throw .snapshotRequired(oldestAvailable: log.lastTxid + 1)
        }
        if ours != checksum { throw .diverged(at: after) }
    }

    /// The next bytes for a stream positioned at `cursor`: every retained record after it
    /// (up to about `maxBytes`), or, once nothing new arrives for `idle`, one heartbeat. A
    /// transaction larger than `maxBytes` is sent in windows of its stored bytes, so a stream
    /// never holds more than about `maxBytes` of the log in memory.
    public func nextChunk(
        after cursor: StreamCursor,
        maxBytes: Int = 1 << 20,
        idle: Duration = .seconds(1),
        now: @Sendable () -> Int64
    )
        async throws -> (bytes: [UInt8], cursor: StreamCursor)
    {
        while true {
            if isRetired { throw SourceRetired() }
            do {
                let next = cursor.txid + 1
                if cursor.offset > 0 || (log.transactionLength(next) ?? 0) > maxBytes {
                    let (bytes, total) = try log.transactionBytes(next, from: cursor.offset, maxBytes: maxBytes)
                    let sent = cursor.offset + bytes.count
                    return (bytes, sent >= total ? StreamCursor(txid: next) : StreamCursor(txid: cursor.txid, offset: sent))
                }
                let records = try log.records(after: cursor.txid, maxBytes: maxBytes)
                if let last = records.last {
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(records.reduce(0) { $0 + $1.bytes.count })
                    for r in records { bytes += r.bytes }
                    return (bytes, StreamCursor(txid: last.txid))
                }
            } catch ReplicationLogError.trimmed(let oldest) {
                throw StreamRefusal.snapshotRequired(oldestAvailable: oldest)
            } catch ReplicationLogError.ahead(let last) {
                // A new generation started under this stream (capture failure): end it.
                throw StreamRefusal.ahead(last: last)
            }
            if await !logged.wait(atLeast: Int64(cursor.txid) + 1, timeout: idle) {
                return (try heartbeat(now: now()).bytes, cursor)
            }
        }
    }
}

/// The source was retired (its node stopped leading): the stream ends and the replica
/// reconnects to whichever node leads now.
public struct SourceRetired: Error, CustomStringConvertible {
    public var description: String { "this node no longer leads; its replication streams ended" }
}

/// Where a stream stands: after transaction `txid`, and `offset` bytes into the next one when
/// that transaction is being sent in windows (0 at a transaction boundary).
public struct StreamCursor: Sendable, Equatable {
    public var txid: TxID
    public var offset: Int

    public init(txid: TxID, offset: Int = 0) {
        self.txid = txid
        self.offset = offset
    }
}
