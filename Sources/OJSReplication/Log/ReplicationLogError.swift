/// Failures of the on-disk replication log. Record-level problems found in segment files or in
/// appended records are wrapped with their `RecordError` so the cause is not lost.
public enum ReplicationLogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The position asked for is older than what the log retains: re-bootstrap from a snapshot.
    case trimmed(oldestAvailable: TxID)
    /// The position asked for is newer than anything written: wrong primary or generation.
    case ahead(last: TxID)
    /// An appended record is not the next transaction.
    case outOfOrder(expected: UInt64, got: UInt64)
    /// An appended record does not chain from the log's last checksum.
    case chainBroken(txid: TxID, expectedPrevious: UInt32, found: UInt32)
    case generationMismatch(expected: Generation, got: Generation)
    /// Only transaction records are stored; heartbeats live on the stream alone.
    case notTransaction
    case invalidRecord(RecordError)
    /// A segment holds bytes that are not a valid continuation of the log, somewhere a crash
    /// cannot explain (not the tail of the newest segment).
    case corruptSegment(file: String, offset: Int, reason: String)
    case generationFileMissing(path: String)
    case badGenerationFile(path: String)
    case badConfiguration(String)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// An earlier write or fsync failed in a way that leaves the file's contents uncertain, so
    /// the log refuses further appends until it is reopened (which re-runs tail recovery).
    case unusable(String)
    /// Another process has this log open (a running server): `lock` names the file it holds.
    case inUse(lock: String)

    public var description: String {
        switch self {
        case .trimmed(let oldest): return "replication log trimmed; oldest retained txid is \(oldest)"
        case .ahead(let last): return "position is ahead of the replication log (last txid \(last))"
        case .outOfOrder(let expected, let got): return "expected txid \(expected), got \(got)"
        case .chainBroken(let txid, let expected, let found):
            return "txid \(txid) chains from checksum \(found), log expects \(expected)"
        case .generationMismatch(let expected, let got): return "record generation \(got), log generation \(expected)"
        case .notTransaction: return "only transaction records can be appended"
        case .invalidRecord(let error): return "invalid record: \(error)"
        case .corruptSegment(let file, let offset, let reason): return "corrupt segment \(file) at offset \(offset): \(reason)"
        case .generationFileMissing(let path): return "segments exist but \(path) is missing"
        case .badGenerationFile(let path): return "\(path) does not hold a generation"
        case .badConfiguration(let why): return "bad replication log configuration: \(why)"
        case .io(let op, let path, let errno): return "\(op) \(path) failed: errno \(errno)"
        case .unusable(let why): return "replication log unusable until reopened: \(why)"
        case .inUse(let lock): return "another process holds \(lock): the data directory is in use"
        }
    }
}
