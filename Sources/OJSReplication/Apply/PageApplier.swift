import CSQLite
import OJSStore

/// Applies page images shipped from a WAL-mode primary to a replica database file kept in
/// rollback-journal mode, while read-only connections in this process keep reading it.
///
/// The pages are written underneath SQLite's pager, through the applier connection's own
/// VFS file handle, while that connection holds an EXCLUSIVE lock. The pager of the applier
/// never dirties a page, so its COMMIT writes nothing and cannot clobber the new images.
/// Readers notice the change because every apply bumps the file change counter (header
/// offset 24): a rollback-mode connection compares it when it next takes a SHARED lock and
/// drops its page cache if it moved. A batch written here is not crash-atomic by itself
/// (there is no journal for these writes): `ReplicaApplier` makes it so by spooling and
/// fsyncing each batch first and re-applying the spool on open, since page images are
/// idempotent (`docs/architecture.md`).
///
/// Owned by one thread.
public final class PageApplier {
    public let path: String
    let connection: Connection

    /// Opens the replica (which must exist, see `installSnapshot`) read-write in
    /// journal_mode=DELETE.
    public init(path: String) throws(ReplicaApplyError) {
        var options = Connection.Options(readOnly: false, synchronous: .full)
        options.journal = .rollback(mode: "DELETE")
        options.create = false
        do {
            connection = try Connection(path: path, options: options)
        } catch {
            throw ReplicaApplyError(error, operation: "open \(path)")
        }
        self.path = path
    }

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
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// The raw writes; runs inside BEGIN EXCLUSIVE under the write lock.
    private func write(_ plan: ApplyPlan) throws(ReplicaApplyError) {
        let file = try SQLiteFileHandle(connection)
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

    func execute(_ sql: String) throws(ReplicaApplyError) {
        do {
            try connection.execute(sql)
        } catch {
            throw ReplicaApplyError(error, operation: sql)
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
