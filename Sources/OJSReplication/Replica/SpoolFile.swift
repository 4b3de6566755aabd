#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a replica's apply spool (a plain concatenation of records) back one record at a
/// time, verifying it with `RecordStreamDecoder` from the copy's position: memory holds one
/// record and one read chunk, never the whole spool.
enum SpoolFile {
    /// Where the spool's whole transactions end: the last one's txid, chain value, database
    /// size and page size.
    struct End: Equatable {
        var txid: TxID
        var checksum: UInt32
        var databasePages: UInt32
        var pageSize: UInt32
    }

    /// Bytes read per call.
    static let chunkBytes = 1 << 20

    /// Verifies the spool from `position` and returns where its last whole transaction ends,
    /// or nil when it holds no whole transaction continuing `position`.
    static func scan(_ path: String, from position: ReplicaPosition) throws -> End? {
        var end: End?
        try walk(path, from: position, through: nil) { streamed in
            let record = streamed.record
            if record.kind == .transaction {
                end = End(txid: record.txid, checksum: streamed.encoded.checksum, databasePages: record.databasePages, pageSize: record.pageSize)
            }
        }
        return end
    }

    /// Calls `body` with every record of the transactions after `position` through `last`.
    static func forEachRecord(_ path: String, from position: ReplicaPosition, through last: TxID, _ body: (Record) throws -> Void) throws {
        try walk(path, from: position, through: last) { try body($0.record) }
    }

    /// Calls `body` with every record after `position`, as received (for the relay log).
    static func forEachStreamed(_ path: String, from position: ReplicaPosition, _ body: (StreamedRecord) throws -> Void) throws {
        try walk(path, from: position, through: nil, body)
    }

    private static func walk(
        _ path: String,
        from position: ReplicaPosition,
        through last: TxID?,
        _ body: (StreamedRecord) throws -> Void
    ) throws {
        let fd = try SegmentIO.openFile(path, O_RDONLY)
        defer { SegmentIO.closeFile(fd) }
        let size = try SegmentIO.size(fd, path: path)
        var decoder = RecordStreamDecoder(generation: position.generation, lastTxid: position.txid, lastChecksum: position.checksum)
        var offset = 0
        while offset < size {
            let chunk = try SegmentIO.read(fd, count: min(chunkBytes, size - offset), at: offset, path: path)
            guard !chunk.isEmpty else { return }
            offset += chunk.count
            decoder.feed(chunk)
            while true {
                let next: StreamedRecord?
                do {
                    next = try decoder.next()
                } catch {
                    // A spool that does not continue the position (already applied) or is
                    // damaged past its whole transactions: stop at what was verified.
                    return
                }
                guard let streamed = next else { break }
                if let last, streamed.record.txid > last { return }
                try body(streamed)
            }
        }
    }
}
