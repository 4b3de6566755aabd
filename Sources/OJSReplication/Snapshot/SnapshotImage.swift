import Foundation
import OJSStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A consistent image of the primary's database in a temporary file, with the position it
/// reflects: what a new replica starts from. Made once, then sent (and resumed) in chunks
/// from the file, so no read transaction stays open while a slow replica downloads.
public struct SnapshotImage: Sendable {
    /// The header of a body that starts at chunk 0.
    public let header: SnapshotHeader
    /// CRC-32 of the whole image: the trailer's final checksum.
    public let imageChecksum: UInt32
    public let path: String

    public var trailer: SnapshotTrailer {
        SnapshotTrailer(id: header.id, txid: header.txid, imageLength: header.imageLength, imageChecksum: imageChecksum)
    }

    /// Uncompressed bytes of chunk `index`, read from the file. Blocking.
    func chunkBytes(_ index: UInt64, fd: Int32) throws -> [UInt8] {
        let length = header.length(ofChunk: index)
        let bytes = try SegmentIO.read(fd, count: length, at: Int(index * UInt64(header.chunkSize)), path: path)
        guard bytes.count == length else { throw SnapshotError.io(operation: "read (short)", path: path, errno: EIO) }
        return bytes
    }

    /// Copies the database at `databasePath` into `path` inside one read transaction, with the
    /// txid of that same state (`replication_position`). Blocking.
    ///
    /// It uses SQLite's backup API, which keeps every page number and page: the records that
    /// follow the snapshot are physical page images applied on top of it. `VACUUM INTO` would
    /// renumber pages (measured: 75,349 of 75,361 pages of a 343 MiB database with free pages
    /// differed) and is slower (0.88 s vs 0.59 s there). The backup resets the schema cookie
    /// (offset 40) to 1; it is written back from the source, because a replica's warm
    /// connections notice a schema change only through that cookie. The read transaction lasts
    /// for the local file copy only, which bounds how long it holds back checkpoints.
    static func copyDatabase(from databasePath: String, to path: String) throws -> (txid: UInt64, pageSize: UInt32, length: UInt64, crc: UInt32) {
        try SegmentIO.removeFile(path)
        let (txid, cookie, pageSize) = try backup(from: databasePath, to: path)
        let fd = try SegmentIO.openFile(path, O_RDWR)
        defer { SegmentIO.closeFile(fd) }
        let length = try SegmentIO.size(fd, path: path)
        guard length >= DatabaseHeader.size, pageSize > 0, length % Int(pageSize) == 0 else {
            throw SnapshotError.sqlite("the copy is \(length) bytes, not whole \(pageSize)-byte pages")
        }
        var cookieBytes = [UInt8](repeating: 0, count: 4)
        DatabaseHeader.writeBE32(cookie, into: &cookieBytes, at: 0)
        try SegmentIO.write(fd, cookieBytes, at: DatabaseHeader.schemaCookieOffset, path: path)
        // The file was just written, so this pass mostly reads the page cache (3.1 s for 3 GiB
        // measured with zlib's crc32 here); nothing is fsynced: a crash deletes the file at
        // startup.
        let (crc, read) = try FileChecksum.crc32(fd: fd, length: length, path: path)
        guard read == length else { throw SnapshotError.io(operation: "read (short)", path: path, errno: EIO) }
        return (txid, pageSize, UInt64(length), crc)
    }

    /// The backup itself; both connections are closed when it returns.
    private static func backup(from databasePath: String, to path: String) throws -> (txid: UInt64, cookie: UInt32, pageSize: UInt32) {
        let source = try Connection(path: databasePath, options: .init(readOnly: true))
        var options = Connection.Options(readOnly: false, synchronous: .normal)
        // Nothing to roll back into: a failed copy is deleted, not repaired.
        options.journal = .rollback(mode: "OFF")
        let destination = try Connection(path: path, options: options)
        // Pages past the destination's original size need no journal, so the pager spills
        // them as this 2 MiB cache fills: memory does not grow with the database.
        try destination.execute("PRAGMA cache_size=-2048")
        try source.execute("BEGIN")
        defer { try? source.execute("COMMIT") }
        // The first read opens the transaction the backup then copies from.
        let txid = try source.scalar("SELECT txid FROM replication_position WHERE id = 1")
        let cookie = try source.scalar("PRAGMA schema_version")
        let pageSize = try source.scalar("PRAGMA page_size")
        try source.backup(into: destination)
        return (UInt64(txid), UInt32(truncatingIfNeeded: cookie), UInt32(pageSize))
    }
}

extension ReplicationSource {
    /// Makes a new image under `path` with the chain checksum at its position.
    func makeSnapshotImage(id: SnapshotID, path: String) async throws -> SnapshotImage {
        let generation = log.generation
        let copy = try await Blocking.run { try SnapshotImage.copyDatabase(from: self.databasePath, to: path) }
        // The log may trail the database by the commit being captured this instant.
        guard await logged.wait(atLeast: Int64(copy.txid), timeout: .seconds(5)) else {
            throw SnapshotError.sqlite("replication log did not reach txid \(copy.txid)")
        }
        let checksum = try log.checksum(at: copy.txid)
        guard log.generation == generation else { throw SnapshotError.sqlite("the history restarted while the image was made; retry") }
        countSnapshot()
        let header = SnapshotHeader(
            generation: generation,
            id: id,
            txid: copy.txid,
            checksum: checksum,
            pageSize: copy.pageSize,
            imageLength: copy.length
        )
        return SnapshotImage(header: header, imageChecksum: copy.crc, path: path)
    }
}

/// Runs blocking work (SQLite, file I/O) on a Dispatch thread instead of Swift's cooperative
/// pool, which has only as many threads as cores.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
