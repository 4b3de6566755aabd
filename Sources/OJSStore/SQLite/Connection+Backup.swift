import CSQLite

extension Connection {
    /// Copies this connection's main database into `destination`'s with SQLite's online
    /// backup API, page by page: page numbers, free pages and every page's bytes are preserved
    /// (`VACUUM INTO` would renumber them). Run it inside a read transaction on this
    /// connection to copy exactly that transaction's state; the backup then uses it instead of
    /// opening its own.
    ///
    /// The backup rewrites the destination's schema cookie (header offset 40) to its own old
    /// value + 1; a caller that needs the source's value must put it back. Memory stays at the
    /// destination's page cache: pages beyond its original size need no journal, so its pager
    /// spills them to the file as the cache fills.
    public func backup(into destination: Connection) throws(SQLiteError) {
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.error(sqlite3_errcode(destination.handle), sql: "sqlite3_backup_init")
        }
        let rc = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errstr(rc)), sql: "sqlite3_backup_step") }
        guard finish == SQLITE_OK else { throw destination.error(finish, sql: "sqlite3_backup_finish") }
    }

    /// SQLite's own open file for the main database (`SQLITE_FCNTL_FILE_POINTER`), for writing
    /// underneath the pager with the VFS's methods. Valid while the connection is open.
    public func mainDatabaseFile() throws(SQLiteError) -> UnsafeMutablePointer<sqlite3_file> {
        var pointer: UnsafeMutablePointer<sqlite3_file>?
        let rc = sqlite3_file_control(handle, "main", SQLITE_FCNTL_FILE_POINTER, &pointer)
        // pMethods is NULL when the VFS failed to open the file.
        guard rc == SQLITE_OK, let pointer, pointer.pointee.pMethods != nil else {
            throw SQLiteError(code: rc == SQLITE_OK ? SQLITE_CANTOPEN : rc, message: "no file handle for the main database", sql: nil)
        }
        return pointer
    }
}
