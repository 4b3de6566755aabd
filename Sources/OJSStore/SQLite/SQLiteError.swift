import CSQLite

/// A failed SQLite call: the result code, SQLite's message, and the statement involved.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let sql: String?

    public var description: String {
        if let sql { return "SQLite error \(code): \(message) [\(sql.prefix(120))]" }
        return "SQLite error \(code): \(message)"
    }

    /// The primary result code (extended codes carry detail in the high bits).
    public var primaryCode: Int32 { code & 0xFF }
    public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }
    /// The disk is full or the database reached its `max_page_count` quota.
    public var isFull: Bool { primaryCode == SQLITE_FULL }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    /// Disk full, read-only or I/O failures: the storage itself is in trouble.
    public var isStorageFailure: Bool {
        [SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_CORRUPT, SQLITE_NOTADB].contains(primaryCode)
    }
}
