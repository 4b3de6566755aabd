/// Everything that can be wrong with record bytes or with a record handed to the encoder.
/// Decoding never traps on bad input; it throws one of these.
public enum RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Fewer bytes than the header (or the header's stated lengths) require.
    case truncated
    case badMagic
    case unsupportedVersion(UInt8)
    case unknownKind(UInt8)
    /// A header field is out of bounds or inconsistent with the others.
    case malformedHeader(String)
    /// The stored checksum does not match the bytes: corruption in transit or at rest.
    case checksumMismatch(txid: TxID)
    /// The record is intact but does not follow the checksum it should chain from: it belongs to
    /// a different history, or records were lost or reordered.
    case chainBroken(txid: TxID, expectedPrevious: UInt32, found: UInt32)
    /// The payload did not inflate to exactly the stated bytes, or its page list is invalid.
    case corruptPayload(String)
    /// The encoder was given a record it cannot represent.
    case invalidRecord(String)
    /// The compressed payload would exceed `RecordCodec.maxCompressedLength`.
    case tooLarge(bytes: Int)
    /// zlib reported an error while compressing (its return code).
    case compressionFailed(Int32)
    /// Stream continuity: a record's txid is not the one that must come next.
    case unexpectedTxid(expected: TxID, got: TxID)
    case generationMismatch(expected: Generation, got: Generation)
    /// Parts of a multi-record transaction: a part is missing, repeated or out of order.
    case unexpectedPart(txid: TxID, expected: UInt16, got: UInt16)
    /// A part disagrees with the transaction's first part (commit time, page size, database
    /// size), or its pages do not continue the previous part's in ascending order.
    case partMismatch(txid: TxID, part: UInt16, String)
    /// A heartbeat or the end of the input arrived while a transaction's parts were incomplete.
    case incompleteTransaction(txid: TxID, partsReceived: Int)

    public var description: String {
        switch self {
        case .truncated: return "record truncated"
        case .badMagic: return "bad record magic"
        case .unsupportedVersion(let v): return "unsupported record version \(v)"
        case .unknownKind(let k): return "unknown record kind \(k)"
        case .malformedHeader(let why): return "malformed record header: \(why)"
        case .checksumMismatch(let txid): return "checksum mismatch in record txid \(txid)"
        case .chainBroken(let txid, let expected, let found):
            return "record txid \(txid) chains from checksum \(found), expected \(expected)"
        case .corruptPayload(let why): return "corrupt record payload: \(why)"
        case .invalidRecord(let why): return "invalid record: \(why)"
        case .tooLarge(let bytes): return "compressed record payload of \(bytes) bytes exceeds the limit"
        case .compressionFailed(let code): return "zlib compression failed (\(code))"
        case .unexpectedTxid(let expected, let got): return "expected record txid \(expected), got \(got)"
        case .generationMismatch(let expected, let got):
            return "record generation \(got) does not match \(expected)"
        case .unexpectedPart(let txid, let expected, let got):
            return "txid \(txid): expected part \(expected), got part \(got)"
        case .partMismatch(let txid, let part, let why):
            return "txid \(txid) part \(part): \(why)"
        case .incompleteTransaction(let txid, let parts):
            return "txid \(txid) ended after \(parts) of its parts"
        }
    }
}
