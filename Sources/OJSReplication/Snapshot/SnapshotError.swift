#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a snapshot could not be made, sent, received or installed. The HTTP layer maps the
/// primary's refusals (`busy`, `unknownSnapshot`) to statuses; everything else is a failure of
/// one attempt that the replica retries (resuming where it can).
public enum SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bytes that are not a snapshot body as `docs/replication-protocol.md` defines it.
    case malformed(String)
    /// A chunk's header, length or checksum is wrong: the download resumes from `index`.
    case corruptChunk(index: UInt64, reason: String)
    /// The body ended before the trailer; `nextChunk` is the first chunk not received whole.
    case truncated(nextChunk: UInt64)
    /// The image assembled on the replica does not match the trailer's checksum: it is never
    /// installed, and the download starts over.
    case finalChecksumMismatch(expected: UInt32, actual: UInt32)
    /// The primary is already sending as many snapshots as it allows.
    case busy(retryAfterSeconds: Int)
    /// The primary no longer keeps the image a download wanted to resume.
    case unknownSnapshot(SnapshotID)
    /// The primary answered a snapshot request with this status (and OJS error body).
    case refused(status: Int, body: String)
    /// The primary could not make the image.
    case sqlite(String)
    /// Not enough disk space for the image (bytes).
    case diskFull(path: String, needed: UInt64, available: UInt64)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .malformed(let why): return "snapshot is malformed: \(why)"
        case .corruptChunk(let index, let why): return "snapshot chunk \(index) is corrupt: \(why)"
        case .truncated(let next): return "snapshot body ended before chunk \(next) was complete"
        case .finalChecksumMismatch(let expected, let actual):
            return "snapshot image checksum is \(String(actual, radix: 16)), the primary sent \(String(expected, radix: 16)): not installed"
        case .busy(let seconds): return "the primary is sending its maximum number of snapshots; retry in \(seconds) s"
        case .unknownSnapshot(let id): return "the primary no longer keeps snapshot \(id.text)"
        case .refused(let status, let body): return "the primary answered the snapshot request with \(status): \(body.prefix(300))"
        case .sqlite(let why): return "snapshot failed: \(why)"
        case .diskFull(let path, let needed, let available):
            return "disk full: the snapshot needs \(needed) more bytes in \(path), \(available) are free"
        case .io(let operation, let path, let e): return "snapshot \(operation) \(path) failed: \(String(cString: strerror(e)))"
        }
    }

    /// The same failure with a disk-full errno turned into `diskFull`, so the operator reads
    /// one clear message whether the space check or a write found it.
    static func from(_ error: any Error, path: String, needed: UInt64) -> any Error {
        if case ReplicationLogError.io(_, _, let e) = error, e == ENOSPC || e == EDQUOT {
            return SnapshotError.diskFull(path: path, needed: needed, available: FreeSpace.bytes(at: path) ?? 0)
        }
        if case ReplicaApplyError.io(_, let code) = error, code & 0xFF == 13 {  // SQLITE_FULL
            return SnapshotError.diskFull(path: path, needed: needed, available: FreeSpace.bytes(at: path) ?? 0)
        }
        return error
    }
}

/// Free space for an unprivileged process in the filesystem holding `path`.
enum FreeSpace {
    static func bytes(at path: String) -> UInt64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }
}
