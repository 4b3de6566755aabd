/// The on-disk layout of a SQLite write-ahead log, as specified in
/// https://www.sqlite.org/fileformat2.html#walformat. Everything here is pure (no I/O) so the
/// reader and the tests can share it.
enum WALFormat {
    static let headerSize = 32
    static let frameHeaderSize = 24
    /// The two magic numbers differ only in the low bit, which selects the byte order of the
    /// 32-bit words fed to the checksum (1 = big-endian). SQLite writes its native order, so a
    /// WAL from x86 uses 0x377f0682, but a file copied from a big-endian host is still valid.
    static let magicLittleEndian: UInt32 = 0x377f_0682
    static let magicBigEndian: UInt32 = 0x377f_0683
    static let version: UInt32 = 3_007_000

    /// Big-endian u32 at `offset`; every header field in the WAL is big-endian regardless of
    /// the checksum byte order.
    @inline(__always)
    static func readBE32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// True for the page sizes SQLite can produce: powers of two from 512 to 65536.
    static func isValidPageSize(_ size: UInt32) -> Bool {
        size >= 512 && size <= 65536 && size & (size - 1) == 0
    }
}

/// The running Fletcher-style checksum SQLite uses in the WAL. It is cumulative: the header's
/// checksum seeds the first frame, each frame's checksum seeds the next, so a reader can only
/// validate frame N after validating every frame before it in the same WAL generation.
struct WALChecksum: Equatable, Sendable {
    var s0: UInt32
    var s1: UInt32

    static let zero = WALChecksum(s0: 0, s1: 0)

    /// Folds `bytes` (a multiple of 8 bytes long) into the checksum. Words are read as
    /// big-endian when `bigEndian` is set, else little-endian: the magic number's low bit says
    /// which, and the same file must checksum the same on any host.
    @inline(__always)
    mutating func update(_ bytes: UnsafeRawBufferPointer, bigEndian: Bool) {
        precondition(bytes.count % 8 == 0, "WAL checksum input must be a multiple of 8 bytes")
        var a = s0
        var b = s1
        var i = 0
        let n = bytes.count
        if bigEndian {
            while i < n {
                a = a &+ UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)) &+ b
                b = b &+ UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self)) &+ a
                i += 8
            }
        } else {
            while i < n {
                a = a &+ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)) &+ b
                b = b &+ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self)) &+ a
                i += 8
            }
        }
        s0 = a
        s1 = b
    }
}

/// The decoded 32-byte WAL header.
struct WALHeader: Equatable, Sendable {
    let bigEndianChecksum: Bool
    let pageSize: UInt32
    let checkpointSequence: UInt32
    let salt1: UInt32
    let salt2: UInt32
    /// Checksum of the first 24 header bytes; the seed for frame 1.
    let checksum: WALChecksum

    /// Decodes and validates a header. Returns nil when the bytes are not a usable header
    /// (wrong magic or version, impossible page size, bad checksum): SQLite itself treats such
    /// a WAL as empty, so the reader does too rather than failing.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= WALFormat.headerSize else { return nil }
        let magic = WALFormat.readBE32(bytes, 0)
        guard magic == WALFormat.magicLittleEndian || magic == WALFormat.magicBigEndian else { return nil }
        guard WALFormat.readBE32(bytes, 4) == WALFormat.version else { return nil }
        let pageSize = WALFormat.readBE32(bytes, 8)
        guard WALFormat.isValidPageSize(pageSize) else { return nil }
        let bigEndian = magic & 1 == 1
        var sum = WALChecksum.zero
        sum.update(UnsafeRawBufferPointer(rebasing: bytes[0..<24]), bigEndian: bigEndian)
        guard sum.s0 == WALFormat.readBE32(bytes, 24), sum.s1 == WALFormat.readBE32(bytes, 28) else { return nil }
        self.bigEndianChecksum = bigEndian
        self.pageSize = pageSize
        self.checkpointSequence = WALFormat.readBE32(bytes, 12)
        self.salt1 = WALFormat.readBE32(bytes, 16)
        self.salt2 = WALFormat.readBE32(bytes, 20)
        self.checksum = sum
    }

    var frameSize: Int { WALFormat.frameHeaderSize + Int(pageSize) }
}

/// One frame that passed validation.
struct WALFrame {
    let pageNumber: UInt32
    /// Database size in pages after the commit; nonzero only on a transaction's last frame.
    let commitSize: UInt32
    let checksum: WALChecksum

    /// Validates the frame at the start of `bytes` (header + page, exactly `header.frameSize`
    /// bytes) against `header` and the running checksum `previous`. Returns nil at the end of
    /// valid data: salts from another WAL generation (stale frames after a restart), a
    /// checksum mismatch (torn or partial write, or a frame rewritten in place and not yet
    /// re-checksummed), or page number 0.
    static func decode(_ bytes: UnsafeRawBufferPointer, header: WALHeader, previous: WALChecksum) -> WALFrame? {
        guard bytes.count == header.frameSize else { return nil }
        let pageNumber = WALFormat.readBE32(bytes, 0)
        guard pageNumber != 0 else { return nil }
        guard WALFormat.readBE32(bytes, 8) == header.salt1, WALFormat.readBE32(bytes, 12) == header.salt2 else {
            return nil
        }
        var sum = previous
        sum.update(UnsafeRawBufferPointer(rebasing: bytes[0..<8]), bigEndian: header.bigEndianChecksum)
        sum.update(UnsafeRawBufferPointer(rebasing: bytes[WALFormat.frameHeaderSize...]), bigEndian: header.bigEndianChecksum)
        guard sum.s0 == WALFormat.readBE32(bytes, 16), sum.s1 == WALFormat.readBE32(bytes, 20) else { return nil }
        return WALFrame(pageNumber: pageNumber, commitSize: WALFormat.readBE32(bytes, 4), checksum: sum)
    }
}
