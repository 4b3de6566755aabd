/// The snapshot wire format, version 2 (`docs/replication-protocol.md`, "Snapshot format v2"):
/// a header, the image in independently compressed and checksummed chunks, and a trailer with
/// the whole image's checksum. Big-endian throughout. A body may start at any chunk (a
/// resumed download); the header says which.
public enum SnapshotFormat {
    public static let version: UInt8 = 2
    public static let headerMagic: [UInt8] = Array("OJSS".utf8)
    public static let chunkMagic: [UInt8] = Array("OJSC".utf8)
    public static let trailerMagic: [UInt8] = Array("OJSE".utf8)
    public static let headerSize = 88
    public static let chunkHeaderSize = 28
    public static let trailerSize = 44
    /// Uncompressed bytes per chunk. 1 MiB: a multiple of every SQLite page size, large enough
    /// that the 28-byte chunk header and zlib's per-stream set-up cost nothing (< 0.01 %), small
    /// enough that a damaged chunk costs 1 MiB of re-transfer and each side holds a few MiB at
    /// most per transfer whatever the database size.
    public static let defaultChunkSize: UInt32 = 1 << 20
    /// The largest chunk a decoder accepts (16 MiB), so a bad length cannot make it buffer
    /// without bound.
    public static let maxChunkSize: UInt32 = 16 << 20
    /// The largest image a decoder accepts (1 TiB): SQLite's own limit at 64 KiB pages is far
    /// above, but a length past this is a damaged header, not a database.
    public static let maxImageLength: UInt64 = 1 << 40
}

/// What a snapshot body starts with: which image, the position it reflects and how it is cut.
public struct SnapshotHeader: Sendable, Equatable {
    public var generation: Generation
    /// Names one prepared image on the primary, so a download can resume against it.
    public var id: SnapshotID
    public var txid: UInt64
    /// The record chain's checksum after `txid`: the next record's `previous checksum`.
    public var checksum: UInt32
    public var pageSize: UInt32
    public var imageLength: UInt64
    public var chunkSize: UInt32
    /// The first chunk this body carries (0 unless resuming).
    public var firstChunk: UInt64

    public init(
        generation: Generation,
        id: SnapshotID,
        txid: UInt64,
        checksum: UInt32,
        pageSize: UInt32,
        imageLength: UInt64,
        chunkSize: UInt32 = SnapshotFormat.defaultChunkSize,
        firstChunk: UInt64 = 0
    ) {
        self.generation = generation
        self.id = id
        self.txid = txid
        self.checksum = checksum
        self.pageSize = pageSize
        self.imageLength = imageLength
        self.chunkSize = chunkSize
        self.firstChunk = firstChunk
    }

    public var chunkCount: UInt64 { (imageLength + UInt64(chunkSize) - 1) / UInt64(chunkSize) }

    /// Uncompressed length of chunk `index`: the chunk size, or what is left for the last.
    public func length(ofChunk index: UInt64) -> Int {
        Int(min(UInt64(chunkSize), imageLength - index * UInt64(chunkSize)))
    }

    /// Whether two headers describe the same image (a resumed body against a saved download).
    public func sameImage(as other: SnapshotHeader) -> Bool {
        var a = self
        a.firstChunk = other.firstChunk
        return a == other
    }

    public func encode() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: SnapshotFormat.headerSize)
        bytes.withUnsafeMutableBytes { h in
            for (i, b) in SnapshotFormat.headerMagic.enumerated() { h[i] = b }
            h[4] = SnapshotFormat.version
            for (i, b) in generation.bytes.enumerated() { h[8 + i] = b }
            for (i, b) in id.bytes.enumerated() { h[24 + i] = b }
            h.storeBE(txid, at: 40)
            h.storeBE(checksum, at: 48)
            h.storeBE(pageSize, at: 52)
            h.storeBE(imageLength, at: 56)
            h.storeBE(chunkSize, at: 64)
            h.storeBE(chunkCount, at: 68)
            h.storeBE(firstChunk, at: 76)
            h.storeBE(Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: h[0..<84])), at: 84)
        }
        return bytes
    }

    /// Decodes and validates exactly `SnapshotFormat.headerSize` bytes.
    public static func decode(_ raw: UnsafeRawBufferPointer) throws(SnapshotError) -> SnapshotHeader {
        guard raw.count == SnapshotFormat.headerSize else { throw .malformed("header is \(raw.count) bytes") }
        guard Array(raw[0..<4]) == SnapshotFormat.headerMagic else { throw .malformed("bad header magic") }
        guard raw[4] == SnapshotFormat.version else { throw .malformed("unsupported snapshot version \(raw[4])") }
        guard raw.loadBE(UInt32.self, at: 84) == Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: raw[0..<84])) else {
            throw .malformed("header checksum mismatch")
        }
        guard let generation = Generation(bytes: raw[8..<24]), let id = SnapshotID(bytes: raw[24..<40]) else {
            throw .malformed("bad generation or snapshot id")
        }
        let header = SnapshotHeader(
            generation: generation,
            id: id,
            txid: raw.loadBE(UInt64.self, at: 40),
            checksum: raw.loadBE(UInt32.self, at: 48),
            pageSize: raw.loadBE(UInt32.self, at: 52),
            imageLength: raw.loadBE(UInt64.self, at: 56),
            chunkSize: raw.loadBE(UInt32.self, at: 64),
            firstChunk: raw.loadBE(UInt64.self, at: 76)
        )
        guard RecordCodec.isValidPageSize(header.pageSize), header.imageLength > 0, header.imageLength % UInt64(header.pageSize) == 0,
            header.imageLength <= SnapshotFormat.maxImageLength
        else { throw .malformed("image length \(header.imageLength) is not a whole number of \(header.pageSize)-byte pages") }
        guard header.chunkSize > 0, header.chunkSize <= SnapshotFormat.maxChunkSize else { throw .malformed("chunk size \(header.chunkSize)") }
        guard raw.loadBE(UInt64.self, at: 68) == header.chunkCount, header.firstChunk <= header.chunkCount else {
            throw .malformed("chunk count or first chunk out of range")
        }
        return header
    }
}

/// One chunk on the wire: its index, the zlib stream and the checksum of what it inflates to.
public enum SnapshotChunk {
    /// Encodes the uncompressed bytes of chunk `index`.
    public static func encode(index: UInt64, _ data: UnsafeRawBufferPointer, level: Int32 = 1) throws -> [UInt8] {
        let compressed = try Zlib.compress(data, level: level)
        var bytes = [UInt8](repeating: 0, count: SnapshotFormat.chunkHeaderSize)
        bytes.reserveCapacity(SnapshotFormat.chunkHeaderSize + compressed.count)
        bytes.withUnsafeMutableBytes { h in
            for (i, b) in SnapshotFormat.chunkMagic.enumerated() { h[i] = b }
            h.storeBE(index, at: 4)
            h.storeBE(UInt32(data.count), at: 12)
            h.storeBE(UInt32(compressed.count), at: 16)
            h.storeBE(Zlib.crc32(0, data), at: 20)
            h.storeBE(Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: h[0..<24])), at: 24)
        }
        bytes += compressed
        return bytes
    }
}

/// What a snapshot body ends with: the whole image's checksum and the position it reflects.
public struct SnapshotTrailer: Sendable, Equatable {
    public var id: SnapshotID
    public var txid: UInt64
    public var imageLength: UInt64
    /// CRC-32 of the whole uncompressed image, chunk 0 onwards (also when the body resumed).
    public var imageChecksum: UInt32

    public init(id: SnapshotID, txid: UInt64, imageLength: UInt64, imageChecksum: UInt32) {
        self.id = id
        self.txid = txid
        self.imageLength = imageLength
        self.imageChecksum = imageChecksum
    }

    public func encode() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: SnapshotFormat.trailerSize)
        bytes.withUnsafeMutableBytes { t in
            for (i, b) in SnapshotFormat.trailerMagic.enumerated() { t[i] = b }
            for (i, b) in id.bytes.enumerated() { t[4 + i] = b }
            t.storeBE(txid, at: 20)
            t.storeBE(imageLength, at: 28)
            t.storeBE(imageChecksum, at: 36)
            t.storeBE(Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: t[0..<40])), at: 40)
        }
        return bytes
    }

    public static func decode(_ raw: UnsafeRawBufferPointer) throws(SnapshotError) -> SnapshotTrailer {
        guard raw.count == SnapshotFormat.trailerSize, Array(raw[0..<4]) == SnapshotFormat.trailerMagic else { throw .malformed("bad trailer") }
        guard raw.loadBE(UInt32.self, at: 40) == Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: raw[0..<40])) else {
            throw .malformed("trailer checksum mismatch")
        }
        guard let id = SnapshotID(bytes: raw[4..<20]) else { throw .malformed("bad snapshot id in trailer") }
        return SnapshotTrailer(
            id: id,
            txid: raw.loadBE(UInt64.self, at: 20),
            imageLength: raw.loadBE(UInt64.self, at: 28),
            imageChecksum: raw.loadBE(UInt32.self, at: 36)
        )
    }
}

/// Names one prepared image on the primary: 16 random bytes written like a generation (a
/// UUID), the same identifier type.
public typealias SnapshotID = Generation
