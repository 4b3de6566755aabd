/// The fixed 68-byte record header, parsed and bounds-checked but with the checksum not yet
/// verified (that needs the payload). Layout, all big-endian:
///
///     0 magic "OJSR" · 4 version · 5 kind · 6 part(2) · 8 generation(16) · 24 txid(8)
///     32 commit time ms(8) · 40 page size · 44 database pages · 48 page count
///     52 payload length · 56 compressed length · 60 previous checksum · 64 checksum
public struct RecordHeader: Sendable, Equatable {
    public var kind: Record.Kind
    public var generation: Generation
    public var txid: TxID
    /// Index of the record within its transaction (bytes 6–7; 0 unless the transaction is
    /// shipped in several records).
    public var part: UInt16 = 0
    public var commitTime: Int64
    public var pageSize: UInt32
    public var databasePages: UInt32
    public var pageCount: UInt32
    public var payloadLength: UInt32
    public var compressedLength: UInt32
    public var previousChecksum: UInt32
    public var checksum: UInt32

    /// Header plus compressed payload: how far to skip to reach the next record.
    public var recordLength: Int { RecordCodec.headerSize + Int(compressedLength) }

    static let magic: [UInt8] = Array("OJSR".utf8)
    static let version: UInt8 = 1
    /// Bytes covered by the checksum before the payload: everything but the checksum itself.
    static let checksummedPrefix = 64

    /// Parses and validates the structure of a header at the start of `raw`. Every bound the
    /// decoder relies on for memory safety and allocation size is enforced here, so a caller
    /// may trust `recordLength` and `payloadLength` afterwards.
    static func parse(_ raw: UnsafeRawBufferPointer) throws -> RecordHeader {
        guard raw.count >= RecordCodec.headerSize else { throw RecordError.truncated }
        guard raw[0] == magic[0], raw[1] == magic[1], raw[2] == magic[2], raw[3] == magic[3] else {
            throw RecordError.badMagic
        }
        guard raw[4] == version else { throw RecordError.unsupportedVersion(raw[4]) }
        guard let kind = Record.Kind(rawValue: raw[5]) else { throw RecordError.unknownKind(raw[5]) }
        var header = RecordHeader(
            kind: kind,
            generation: Generation(uncheckedBytes: Array(raw[8..<24])),
            txid: raw.loadBE(UInt64.self, at: 24),
            commitTime: raw.loadBE(Int64.self, at: 32),
            pageSize: raw.loadBE(UInt32.self, at: 40),
            databasePages: raw.loadBE(UInt32.self, at: 44),
            pageCount: raw.loadBE(UInt32.self, at: 48),
            payloadLength: raw.loadBE(UInt32.self, at: 52),
            compressedLength: raw.loadBE(UInt32.self, at: 56),
            previousChecksum: raw.loadBE(UInt32.self, at: 60),
            checksum: raw.loadBE(UInt32.self, at: 64)
        )
        header.part = raw.loadBE(UInt16.self, at: 6)
        try header.validate()
        return header
    }

    /// Structural rules shared by the encoder (before writing) and the decoder (after reading),
    /// so nothing the encoder accepts can fail to decode.
    func validate() throws {
        switch kind {
        case .heartbeat:
            // A heartbeat may come from a primary that has no database page size to report yet.
            guard pageSize == 0 || RecordCodec.isValidPageSize(pageSize) else {
                throw RecordError.malformedHeader("page size \(pageSize) is not a power of two in 512...65536")
            }
            guard pageCount == 0, payloadLength == 0, compressedLength == 0 else {
                throw RecordError.malformedHeader("heartbeat with a payload")
            }
            guard part == 0 else { throw RecordError.malformedHeader("heartbeat with part index \(part)") }
        case .transaction, .transactionPart:
            guard RecordCodec.isValidPageSize(pageSize) else {
                throw RecordError.malformedHeader("page size \(pageSize) is not a power of two in 512...65536")
            }
            guard txid >= 1 else { throw RecordError.malformedHeader("transaction txid 0") }
            guard txid > 1 || part > 0 || previousChecksum == 0 else {
                throw RecordError.malformedHeader("txid 1 must chain from checksum 0")
            }
            // A part that is not the last must carry pages, so a transaction cannot be padded
            // out with empty parts.
            guard kind == .transaction || pageCount > 0 else {
                throw RecordError.malformedHeader("transaction part without pages")
            }
            guard kind == .transaction || part < UInt16.max else {
                throw RecordError.malformedHeader("a transaction has at most \(Int(UInt16.max) + 1) parts")
            }
            let expectedPayload = UInt64(pageCount) * (4 + UInt64(pageSize))
            guard expectedPayload == UInt64(payloadLength) else {
                throw RecordError.malformedHeader(
                    "payload length \(payloadLength) != \(pageCount) pages × (4 + \(pageSize))"
                )
            }
            guard compressedLength > 0, compressedLength <= RecordCodec.maxCompressedLength else {
                throw RecordError.malformedHeader("compressed length \(compressedLength) out of bounds")
            }
            // Deflate cannot expand by more than ~1032:1; a larger claim is garbage, and refusing
            // it keeps a forged header from making us allocate gigabytes.
            guard UInt64(payloadLength) <= UInt64(compressedLength) * 1032 + 64 else {
                throw RecordError.malformedHeader("payload length \(payloadLength) impossible for \(compressedLength) compressed bytes")
            }
        }
    }

    func serialize(into raw: UnsafeMutableRawBufferPointer) {
        for i in 0..<4 { raw[i] = RecordHeader.magic[i] }
        raw[4] = RecordHeader.version
        raw[5] = kind.rawValue
        raw.storeBE(part, at: 6)
        for i in 0..<Generation.byteCount { raw[8 + i] = generation.bytes[i] }
        raw.storeBE(txid, at: 24)
        raw.storeBE(commitTime, at: 32)
        raw.storeBE(pageSize, at: 40)
        raw.storeBE(databasePages, at: 44)
        raw.storeBE(pageCount, at: 48)
        raw.storeBE(payloadLength, at: 52)
        raw.storeBE(compressedLength, at: 56)
        raw.storeBE(previousChecksum, at: 60)
        raw.storeBE(checksum, at: 64)
    }
}
