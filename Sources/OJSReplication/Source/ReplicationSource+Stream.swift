import Foundation

/// Why the primary will not stream from a replica's position.
public enum StreamRefusal: Error, Sendable, Equatable {
    /// The replica follows another history: re-bootstrap.
    case generationMismatch(current: Generation)
    /// The records after the position were trimmed from the log: re-bootstrap.
    case snapshotRequired(oldestAvailable: UInt64)
    /// The position is past the end of this primary's log: re-bootstrap.
    case ahead(last: UInt64)
}

extension ReplicationSource {
    /// Checks that a replica at `after` on `generation` can be streamed to.
    public func checkStart(after: UInt64, generation: Generation?) throws(StreamRefusal) {
        if let generation, generation != log.generation { throw .generationMismatch(current: log.generation) }
        if after > log.lastTxid { throw .ahead(last: log.lastTxid) }
        let first = log.firstTxid
        if first > 0, after + 1 < first { throw .snapshotRequired(oldestAvailable: first) }
        if first == 0, after < log.lastTxid { throw .snapshotRequired(oldestAvailable: log.lastTxid + 1) }
    }

    /// The next bytes for a stream positioned at `cursor`: every retained record after it
    /// (up to about `maxBytes`), or, once nothing new arrives for `idle`, one heartbeat.
    public func nextChunk(after cursor: UInt64, maxBytes: Int = 1 << 20, idle: Duration = .seconds(1), now: @Sendable () -> Int64) async throws
        -> (bytes: [UInt8], cursor: UInt64)
    {
        while true {
            let records: [EncodedRecord]
            do {
                records = try log.records(after: cursor, maxBytes: maxBytes)
            } catch ReplicationLogError.trimmed(let oldest) {
                throw StreamRefusal.snapshotRequired(oldestAvailable: oldest)
            } catch ReplicationLogError.ahead(let last) {
                // A new generation started under this stream (capture failure): end it.
                throw StreamRefusal.ahead(last: last)
            }
            if let last = records.last {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(records.reduce(0) { $0 + $1.bytes.count })
                for r in records { bytes += r.bytes }
                return (bytes, last.txid)
            }
            if await !logged.wait(atLeast: Int64(cursor) + 1, timeout: idle) {
                return (try heartbeat(now: now()).bytes, cursor)
            }
        }
    }
}
