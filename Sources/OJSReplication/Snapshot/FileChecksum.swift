/// CRC-32 of a file's first `length` bytes, read `SnapshotFormat.defaultChunkSize` at a time:
/// the snapshot's final checksum, computed by the primary over its image and by the replica
/// over what it wrote, without either holding the image in memory. Blocking.
enum FileChecksum {
    /// The checksum and how many bytes were read (fewer than `length` if the file is shorter).
    static func crc32(fd: Int32, length: Int, path: String) throws -> (crc: UInt32, bytesRead: Int) {
        var crc: UInt32 = 0
        var offset = 0
        let step = Int(SnapshotFormat.defaultChunkSize)
        while offset < length {
            let bytes = try SegmentIO.read(fd, count: min(step, length - offset), at: offset, path: path)
            guard !bytes.isEmpty else { break }
            crc = bytes.withUnsafeBytes { Zlib.crc32(crc, $0) }
            offset += bytes.count
        }
        return (crc, offset)
    }
}
