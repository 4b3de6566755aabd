import OJSStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a replica could not be opened, updated or installed.
public enum ReplicaApplyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A SQL-level call failed (open, PRAGMA, BEGIN/COMMIT). `code` is the extended result code.
    case sqlite(code: Int32, message: String, operation: String)
    /// One of SQLite's VFS methods (xRead/xWrite/xTruncate/xSync/xFileSize) on the replica
    /// file returned `code`. The batch was rolled back at the SQL level, but pages already
    /// written stay written: the replica must be re-seeded from a snapshot.
    case io(operation: String, code: Int32)
    /// SQLite did not hand out a usable file handle for the main database.
    case noFileHandle
    /// The batch's page size differs from the replica's (or within the batch).
    case pageSizeMismatch(replica: UInt32, batch: UInt32)
    /// A page image of the wrong length, page number 0, or a database size of 0 pages.
    case invalidTransaction(String)
    /// A system call failed while installing a snapshot.
    case snapshot(operation: String, path: String, errno: Int32)
    /// The snapshot image is not a SQLite database file.
    case invalidSnapshot(String)

    public var description: String {
        switch self {
        case .sqlite(let code, let message, let operation): return "SQLite error \(code) during \(operation): \(message)"
        case .io(let operation, let code): return "replica \(operation) failed with SQLite code \(code)"
        case .noFileHandle: return "SQLite returned no file handle for the replica"
        case .pageSizeMismatch(let replica, let batch): return "page size mismatch: replica \(replica), batch \(batch)"
        case .invalidTransaction(let why): return "invalid transaction: \(why)"
        case .snapshot(let operation, let path, let e):
            return "snapshot install: \(operation) \(path) failed: \(String(cString: strerror(e)))"
        case .invalidSnapshot(let why): return "invalid snapshot: \(why)"
        }
    }
}

extension ReplicaApplyError {
    /// A failed call of the `Connection` wrapper, with what the applier was doing.
    init(_ error: SQLiteError, operation: String) {
        self = .sqlite(code: error.code, message: error.message, operation: operation)
    }
}
