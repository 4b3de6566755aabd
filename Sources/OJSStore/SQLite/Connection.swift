import CSQLite

/// How hard COMMIT works to reach the disk. FULL syncs the WAL on every commit, so an
/// acknowledged write survives power loss; NORMAL syncs only at checkpoints, so it survives a
/// process crash (`kill -9`) but may lose the last commits on power loss.
public enum SynchronousMode: String, Sendable, CaseIterable {
    case full = "FULL"
    case normal = "NORMAL"
    case extra = "EXTRA"
}

/// One SQLite connection through the C API, with a statement cache. Not thread-safe: each
/// connection belongs to one thread (the writer's, or one reader's).
public final class Connection {
    let handle: OpaquePointer
    public let path: String
    private var cache: [String: Statement] = [:]

    public struct Options: Sendable {
        public var readOnly = false
        public var synchronous: SynchronousMode = .full
        public var busyTimeoutMs: Int32 = 5000
        /// How a read-write connection journals. Ignored for read-only connections.
        public var journal: Journal = .primaryWAL
        /// Create the file if it does not exist (read-write connections only).
        public var create = true
        public init(readOnly: Bool = false, synchronous: SynchronousMode = .full) {
            self.readOnly = readOnly
            self.synchronous = synchronous
        }
    }

    /// The journaling set-up of a read-write connection.
    public enum Journal: Sendable, Equatable {
        /// The primary's writer: WAL, no automatic checkpoints, statement journal and a larger
        /// cache in memory.
        case primaryWAL
        /// A file kept out of WAL mode (a replica's copy, a snapshot's temporary image): only
        /// `journal_mode` (e.g. "DELETE", "OFF") and `synchronous` are set.
        case rollback(mode: String)
    }

    /// Process-wide SQLite settings, applied once before the first connection opens: without
    /// memory statistics SQLite's allocator takes no global mutex (2.8 % of a 1,000-job batch
    /// push's CPU in `pthread_mutex_lock`/`unlock`, perf).
    private static let configured: Int32 = ojs_sqlite3_disable_memstatus()

    public init(path: String, options: Options = Options()) throws(SQLiteError) {
        _ = Self.configured
        var db: OpaquePointer?
        let flags =
            (options.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0))) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, sql: nil)
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, options.busyTimeoutMs)
        if options.readOnly {
            try execute("PRAGMA query_only=ON")
        } else if case .rollback(let mode) = options.journal {
            let actual = try text("PRAGMA journal_mode=\(mode)")
            guard actual?.lowercased() == mode.lowercased() else {
                throw SQLiteError(
                    code: SQLITE_ERROR,
                    message: "journal_mode is \(actual ?? "unknown"), not \(mode)",
                    sql: "PRAGMA journal_mode=\(mode)"
                )
            }
            try execute("PRAGMA synchronous=\(options.synchronous.rawValue)")
        } else {
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=\(options.synchronous.rawValue)")
            // The writer checkpoints itself, after replication has captured the frames.
            try execute("PRAGMA wal_autocheckpoint=0")
            // Every request in a group commit runs in its own SAVEPOINT, and SQLite keeps the
            // statement journal (the pages' prior contents) in a temp file by default: 9 pwrites
            // per job in a batch push, 40 % of the writer thread's time. In memory it is a copy.
            try execute("PRAGMA temp_store=MEMORY")
            // A commit of a few thousand batch-pushed jobs dirties megabytes of pages; keep
            // them in the cache rather than spilling them into the WAL mid-transaction.
            try execute("PRAGMA cache_size=-16384")
        }
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements with no parameters and no results.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? "error"
            sqlite3_free(errmsg)
            throw SQLiteError(code: rc, message: message, sql: sql)
        }
    }

    func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let s = cache[sql] { return s }
        let s = try Statement(connection: self, sql: sql)
        cache[sql] = s
        return s
    }

    /// Runs a statement and returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> Int {
        let s = try statement(sql)
        try s.bind(values)
        defer { s.finish() }
        while try s.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query, calling `body` for each row.
    public func query(_ sql: String, _ values: [SQLValue] = [], _ body: (Row) throws -> Void) throws {
        let s = try statement(sql)
        try s.bind(values)
        defer { s.finish() }
        while try s.step() { try body(Row(handle: s.handle)) }
    }

    /// The first row mapped by `body`, or nil.
    public func first<T>(_ sql: String, _ values: [SQLValue] = [], _ body: (Row) throws -> T) throws -> T? {
        let s = try statement(sql)
        try s.bind(values)
        defer { s.finish() }
        guard try s.step() else { return nil }
        return try body(Row(handle: s.handle))
    }

    /// The first column of the first row as text, or nil when there is no row.
    public func text(_ sql: String) throws(SQLiteError) -> String? {
        let s = try statement(sql)
        try s.bind([])
        defer { s.finish() }
        guard try s.step() else { return nil }
        return Row(handle: s.handle).optText(0)
    }

    /// A single integer (`SELECT count(*) …`), 0 when there is no row.
    public func scalar(_ sql: String, _ values: [SQLValue] = []) throws -> Int64 {
        try first(sql, values) { $0.int(0) } ?? 0
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }
    public var rawHandle: OpaquePointer { handle }
}
