import CSQLite

/// Applies page images shipped from a WAL-mode primary to a replica database file kept in
/// rollback-journal mode, while read-only connections in this process keep reading it.
///
/// The pages are written underneath SQLite's pager, through the applier connection's own
/// VFS file handle, while that connection holds an EXCLUSIVE lock. The pager of the applier
/// never dirties a page, so its COMMIT writes nothing and cannot clobber the new images.
/// Readers notice the change because every apply bumps the file change counter (header
/// offset 24): a rollback-mode connection compares it when it next takes a SHARED lock and
/// drops its page cache if it moved. The batch is not crash-atomic (there is no journal for
/// these writes); a replica that crashed mid-apply must be re-seeded from a snapshot.
///
/// Owned by one thread.
public final class PageApplier {
    public let path: String
    let db: OpaquePointer

    /// Opens the replica (which must exist, see `installSnapshot`) read-write in
    /// journal_mode=DELETE.
    public init(path: String) throws(ReplicaApplyError) {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            if let handle { sqlite3_close_v2(handle) }
            throw .sqlite(code: rc, message: message, operation: "open \(path)")
        }
        self.db = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        // Readers hold the ReplicaLock around their transactions, so BEGIN EXCLUSIVE should not
        // wait; the timeout only covers connections outside this process.
        sqlite3_busy_timeout(handle, 5000)
        let mode = try queryText("PRAGMA journal_mode=DELETE")
        guard mode?.lowercased() == "delete" else {
            throw .sqlite(code: SQLITE_ERROR, message: "journal_mode is \(mode ?? "unknown")", operation: "PRAGMA journal_mode=DELETE")
        }
    }

    deinit { sqlite3_close_v2(db) }

    /// Applies whole transactions, in order, as one atomic step for readers that respect
    /// `lock`. Within the batch the last image of each page wins and the last transaction's
    /// size is the final database size.
    public func apply(_ transactions: [WALTransaction], lock: ReplicaLock) throws(ReplicaApplyError) {
        guard let plan = try ApplyPlan(transactions) else { return }
        try lock.withWriteLock { () throws(ReplicaApplyError) in
            try execute("BEGIN EXCLUSIVE")
            do throws(ReplicaApplyError) {
                try write(plan)
                try execute("COMMIT")
            } catch {
                // Releases the EXCLUSIVE lock; the raw page writes themselves are not undone.
                sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
                throw error
            }
        }
    }

    /// The raw writes; runs inside BEGIN EXCLUSIVE under the write lock.
    private func write(_ plan: ApplyPlan) throws(ReplicaApplyError) {
        let file = try SQLiteFileHandle(db: db)
        let pageSize = Int64(plan.pageSize)
        // Read the header from the file, not through the pager: it is the on-disk counter that
        // readers compare against.
        var header = try file.read(count: DatabaseHeader.size, at: 0)
        let replicaPageSize = header.withUnsafeBytes { DatabaseHeader.pageSize($0) } ?? 0
        guard replicaPageSize == plan.pageSize else {
            throw .pageSizeMismatch(replica: replicaPageSize, batch: plan.pageSize)
        }
        let counter = header.withUnsafeBytes { DatabaseHeader.readBE32($0, DatabaseHeader.changeCounterOffset) } &+ 1

        for (pageNumber, image) in plan.pages {
            var image = image
            if pageNumber == 1 {
                DatabaseHeader.patch(&image, changeCounter: counter, databasePages: plan.databasePages)
            }
            try file.write(image, at: (Int64(pageNumber) - 1) * pageSize)
        }
        if plan.pages.first?.pageNumber != 1 {
            // Page 1 unchanged by the batch: the counter must still move, or a reader with a
            // warm cache would keep serving the pages it cached before this batch.
            DatabaseHeader.patch(&header, changeCounter: counter, databasePages: plan.databasePages)
            try file.write(header, at: 0)
        }
        // Shrink when the primary truncated; also extend if the last page was never written
        // (SQLite rejects a file shorter than the size recorded in its header as corrupt).
        let wantedSize = Int64(plan.databasePages) * pageSize
        if try file.size() != wantedSize {
            try file.truncate(to: wantedSize)
        }
        try file.sync()
    }

    // MARK: - SQL helpers

    func execute(_ sql: String) throws(ReplicaApplyError) {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errmsg)
        guard rc == SQLITE_OK else {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(errmsg)
            throw .sqlite(code: sqlite3_extended_errcode(db), message: message, operation: sql)
        }
    }

    private func queryText(_ sql: String) throws(ReplicaApplyError) -> String? {
        var stmt: OpaquePointer?
        var rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw .sqlite(code: rc, message: String(cString: sqlite3_errmsg(db)), operation: sql)
        }
        defer { sqlite3_finalize(stmt) }
        rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return sqlite3_column_text(stmt, 0).map { String(cString: $0) }
        case SQLITE_DONE: return nil
        default: throw .sqlite(code: rc, message: String(cString: sqlite3_errmsg(db)), operation: sql)
        }
    }
}

@available(*, unavailable)
extension PageApplier: Sendable {}

/// A validated batch reduced to what gets written: the final image of each page, in
/// ascending page order (sequential I/O), and the final size.
struct ApplyPlan {
    let pageSize: UInt32
    let databasePages: UInt32
    let pages: [(pageNumber: UInt32, image: [UInt8])]

    /// Nil for an empty batch.
    init?(_ transactions: [WALTransaction]) throws(ReplicaApplyError) {
        guard let last = transactions.last else { return nil }
        let pageSize = last.pageSize
        var merged: [UInt32: [UInt8]] = [:]
        for transaction in transactions {
            guard transaction.pageSize == pageSize else {
                throw .pageSizeMismatch(replica: pageSize, batch: transaction.pageSize)
            }
            guard transaction.databasePages > 0 else { throw .invalidTransaction("database size of 0 pages") }
            for (pageNumber, image) in transaction.pages {
                guard pageNumber > 0, image.count == Int(pageSize) else {
                    throw .invalidTransaction("page \(pageNumber) has \(image.count) bytes, page size is \(pageSize)")
                }
                merged[pageNumber] = image
            }
        }
        // Pages past the final size were truncated away by a later transaction of the batch.
        self.pages = merged.filter { $0.key <= last.databasePages }.sorted { $0.key < $1.key }
            .map { (pageNumber: $0.key, image: $0.value) }
        self.pageSize = pageSize
        self.databasePages = last.databasePages
    }
}
