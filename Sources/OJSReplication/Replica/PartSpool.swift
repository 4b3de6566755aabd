#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A transaction shipped in several records, received whole and written to disk.
struct SpooledTransaction: Sendable {
    let path: String
    let txid: TxID
    let commitTime: Int64
    /// Chain value after the transaction (its last part's checksum).
    let checksum: UInt32
    let records: Int
    let bytes: Int
    let pageSize: UInt32
}

/// Writes the parts of a multi-record transaction to `incoming-<txid>.spool` as they arrive,
/// so a replica never holds a large transaction in memory. The file is fsynced when the last
/// part arrives and handed to the applier; parts of a transaction the stream broke off are
/// deleted. Verification happened before (`RecordStreamDecoder` checked every part).
///
/// Owned by the stream's reader task.
final class PartSpool {
    static let prefix = "incoming-"
    static let suffix = ".spool"

    let directory: String
    private var fd: Int32 = -1
    private var path: String?
    private var written = 0
    private var records = 0

    init(directory: String) { self.directory = directory }

    deinit { discard() }

    /// Adds one part; returns the spooled transaction once `record` is its last part.
    func append(_ streamed: StreamedRecord) throws -> SpooledTransaction? {
        let record = streamed.record
        if record.part == 0 {
            discard()
            let name = directory + "/" + Self.prefix + String(record.txid) + Self.suffix
            fd = try SegmentIO.openFile(name, O_WRONLY | O_CREAT | O_TRUNC)
            path = name
        }
        guard fd >= 0, let path else { throw RecordError.unexpectedPart(txid: record.txid, expected: 0, got: record.part) }
        try SegmentIO.write(fd, streamed.encoded.bytes, at: written, path: path)
        written += streamed.encoded.bytes.count
        records += 1
        guard record.kind == .transaction else { return nil }
        try SegmentIO.syncFile(fd, path: path)
        SegmentIO.closeFile(fd)
        fd = -1
        self.path = nil
        defer {
            written = 0
            records = 0
        }
        return SpooledTransaction(
            path: path,
            txid: record.txid,
            commitTime: record.commitTime,
            checksum: streamed.encoded.checksum,
            records: records,
            bytes: written,
            pageSize: record.pageSize
        )
    }

    /// Deletes an incomplete transaction's parts.
    func discard() {
        if fd >= 0 { SegmentIO.closeFile(fd) }
        fd = -1
        if let path { try? SegmentIO.removeFile(path) }
        path = nil
        written = 0
        records = 0
    }

    /// Removes spool files a previous run left behind (incomplete, or complete but not
    /// applied: the stream sends them again).
    static func removeLeftovers(in directory: String) {
        for name in (try? SegmentIO.list(directory)) ?? [] where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            try? SegmentIO.removeFile(directory + "/" + name)
        }
    }
}

@available(*, unavailable)
extension PartSpool: Sendable {}
