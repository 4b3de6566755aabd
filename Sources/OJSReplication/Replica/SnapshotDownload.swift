#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A snapshot being received into `snapshot.partial` in the replica's data directory, chunk
/// by chunk as it arrives, with its header saved beside it (`snapshot.partial.header`, the 88
/// wire bytes, so it is checksummed). An interrupted download — a dropped connection, a
/// corrupt chunk, a restart — resumes from its last whole chunk against the same image.
/// Nothing here is trusted for the final result: `finish` checks the whole file against the
/// trailer's checksum, so a resumed prefix damaged by a crash is caught there.
///
/// Used by one task at a time (the tailer's bootstrap).
final class SnapshotDownload: @unchecked Sendable {
    let header: SnapshotHeader
    let imagePath: String
    let headerPath: String
    /// The first chunk not yet written.
    private(set) var nextChunk: UInt64
    private var fd: Int32

    static func paths(in directory: String) -> (image: String, header: String) {
        (directory + "/snapshot.partial", directory + "/snapshot.partial.header")
    }

    private init(header: SnapshotHeader, directory: String, fd: Int32, nextChunk: UInt64) {
        self.header = header
        (imagePath, headerPath) = Self.paths(in: directory)
        self.fd = fd
        self.nextChunk = nextChunk
    }

    deinit { close() }

    /// The download saved by an earlier attempt, cut back to its last whole chunk; nil (and
    /// its files removed) when there is none or it is unusable.
    static func resume(in directory: String) -> SnapshotDownload? {
        let (imagePath, headerPath) = paths(in: directory)
        guard SegmentIO.exists(headerPath) else {
            try? SegmentIO.removeFile(imagePath)
            return nil
        }
        do {
            let headerFD = try SegmentIO.openFile(headerPath, O_RDONLY)
            let bytes = try SegmentIO.read(headerFD, count: SnapshotFormat.headerSize, at: 0, path: headerPath)
            SegmentIO.closeFile(headerFD)
            let header = try bytes.withUnsafeBytes { try SnapshotHeader.decode($0) }
            let fd = try SegmentIO.openFile(imagePath, O_RDWR | O_CREAT)
            let size = UInt64(try SegmentIO.size(fd, path: imagePath))
            let whole = min(size / UInt64(header.chunkSize), header.chunkCount)
            try SegmentIO.truncate(fd, to: Int(min(whole * UInt64(header.chunkSize), header.imageLength)), path: imagePath)
            return SnapshotDownload(header: header, directory: directory, fd: fd, nextChunk: whole)
        } catch {
            discardFiles(in: directory)
            return nil
        }
    }

    /// A new download of the image `header` describes, replacing any saved one. Fails with
    /// `SnapshotError.diskFull` unless the filesystem has room for the image plus
    /// `extraBytes` (what installing it will need besides).
    static func start(_ header: SnapshotHeader, in directory: String, extraBytes: UInt64) throws -> SnapshotDownload {
        discardFiles(in: directory)
        var fresh = header
        fresh.firstChunk = 0
        let needed = header.imageLength + extraBytes
        if let free = FreeSpace.bytes(at: directory), free < needed {
            throw SnapshotError.diskFull(path: directory, needed: needed, available: free)
        }
        let (imagePath, headerPath) = paths(in: directory)
        do {
            try SegmentIO.writeAtomically(fresh.encode(), to: headerPath, directory: directory)
            let fd = try SegmentIO.openFile(imagePath, O_RDWR | O_CREAT | O_TRUNC)
            return SnapshotDownload(header: fresh, directory: directory, fd: fd, nextChunk: 0)
        } catch {
            discardFiles(in: directory)
            throw SnapshotError.from(error, path: directory, needed: needed)
        }
    }

    /// Writes the next chunk (verified by the decoder) at its place in the image.
    func write(chunk index: UInt64, bytes: [UInt8]) throws {
        guard index == nextChunk, bytes.count == header.length(ofChunk: index) else {
            throw SnapshotError.corruptChunk(index: index, reason: "chunk \(index) arrived, \(nextChunk) expected")
        }
        do {
            try SegmentIO.write(fd, bytes, at: Int(index * UInt64(header.chunkSize)), path: imagePath)
        } catch {
            throw SnapshotError.from(error, path: imagePath, needed: header.imageLength - index * UInt64(header.chunkSize))
        }
        nextChunk += 1
    }

    /// Makes the image durable and checks it, as written on disk, against the trailer. A
    /// mismatch discards the download: that image is never installed.
    func finish(_ trailer: SnapshotTrailer) throws {
        guard nextChunk == header.chunkCount else { throw SnapshotError.truncated(nextChunk: nextChunk) }
        do {
            try SegmentIO.syncFile(fd, path: imagePath)
        } catch {
            throw SnapshotError.from(error, path: imagePath, needed: 0)
        }
        let length = Int(header.imageLength)
        let (crc, read) = try FileChecksum.crc32(fd: fd, length: length, path: imagePath)
        guard read == length, crc == trailer.imageChecksum else {
            discard()
            throw SnapshotError.finalChecksumMismatch(expected: trailer.imageChecksum, actual: crc)
        }
    }

    func close() {
        guard fd >= 0 else { return }
        SegmentIO.closeFile(fd)
        fd = -1
    }

    /// Drops the download and its files.
    func discard() {
        close()
        Self.discardFiles(in: String(imagePath.dropLast("/snapshot.partial".count)))
    }

    static func discardFiles(in directory: String) {
        let (imagePath, headerPath) = paths(in: directory)
        try? SegmentIO.removeFile(headerPath)
        try? SegmentIO.removeFile(imagePath)
    }
}
