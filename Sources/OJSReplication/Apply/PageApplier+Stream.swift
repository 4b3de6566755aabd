import CSQLite

extension PageApplier {
    /// Receives page images during `applyStreaming`.
    public struct PageSink {
        let file: SQLiteFileHandle
        let pageSize: UInt32

        /// Writes one page image (later writes of the same page win).
        public func write(_ page: Page) throws(ReplicaApplyError) {
            guard page.number > 0, page.data.count == Int(pageSize) else {
                throw .invalidTransaction("page \(page.number) has \(page.data.count) bytes, page size is \(pageSize)")
            }
            try file.write(page.data, at: (Int64(page.number) - 1) * Int64(pageSize))
        }
    }

    /// Applies a batch too large to hold in memory as one atomic step for readers that
    /// respect `lock`: `body` feeds the pages in order (a multi-record transaction read back
    /// from the spool one record at a time) and returns the final database size in pages.
    /// The header is patched afterwards from what is on disk — rollback-journal versions, a new
    /// change counter (so warm connections, including their schema cache, see the change) and
    /// the final size — then the file is sized, synced and the transaction committed.
    public func applyStreaming(
        pageSize: UInt32,
        lock: ReplicaLock,
        _ body: (PageSink) throws -> UInt32
    ) throws {
        try lock.withWriteLock { () throws in
            try execute("BEGIN EXCLUSIVE")
            do {
                let file = try SQLiteFileHandle(connection)
                let before = try file.read(count: DatabaseHeader.size, at: 0)
                let replicaPageSize = before.withUnsafeBytes { DatabaseHeader.pageSize($0) } ?? 0
                guard replicaPageSize == pageSize else { throw ReplicaApplyError.pageSizeMismatch(replica: replicaPageSize, batch: pageSize) }
                let counter = before.withUnsafeBytes { DatabaseHeader.readBE32($0, DatabaseHeader.changeCounterOffset) } &+ 1
                let databasePages = try body(PageSink(file: file, pageSize: pageSize))
                guard databasePages > 0 else { throw ReplicaApplyError.invalidTransaction("database size of 0 pages") }
                var header = try file.read(count: DatabaseHeader.size, at: 0)
                DatabaseHeader.patch(&header, changeCounter: counter, databasePages: databasePages)
                try file.write(header, at: 0)
                let wantedSize = Int64(databasePages) * Int64(pageSize)
                if try file.size() != wantedSize { try file.truncate(to: wantedSize) }
                try file.sync()
                try execute("COMMIT")
            } catch {
                // Releases the EXCLUSIVE lock; the raw page writes themselves are not undone
                // (the spool is re-applied on the next attempt or start).
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }
}
