import CSQLite
import OJSStore

/// SQLite's own open file for a connection's main database, driven through its VFS methods.
///
/// Writing through the connection's `sqlite3_file` (rather than a separate descriptor) keeps
/// the VFS in charge: the POSIX locks SQLite holds stay attached to the descriptor it owns
/// (closing any other descriptor on the same inode would drop them), and any VFS shim
/// (checksums, encryption) sees the writes. Valid only while the connection is open.
struct SQLiteFileHandle {
    private let file: UnsafeMutablePointer<sqlite3_file>
    private let methods: UnsafePointer<sqlite3_io_methods>

    /// The main database file of `connection`.
    init(_ connection: Connection) throws(ReplicaApplyError) {
        guard let file = try? connection.mainDatabaseFile(), let methods = file.pointee.pMethods else { throw .noFileHandle }
        self.file = file
        self.methods = methods
    }

    func read(count: Int, at offset: Int64) throws(ReplicaApplyError) -> [UInt8] {
        guard let xRead = methods.pointee.xRead else { throw .noFileHandle }
        var rc: Int32 = SQLITE_OK
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            rc = xRead(file, buffer.baseAddress, Int32(count), offset)
            // On a short read the VFS zero-fills the rest and returns SQLITE_IOERR_SHORT_READ.
            initialized = count
        }
        guard rc == SQLITE_OK else { throw .io(operation: "xRead", code: rc) }
        return bytes
    }

    func write(_ bytes: [UInt8], at offset: Int64) throws(ReplicaApplyError) {
        let rc = bytes.withUnsafeBytes { write($0, at: offset) }
        guard rc == SQLITE_OK else { throw .io(operation: "xWrite", code: rc) }
    }

    /// Writes `pageSize` bytes at a time: the unix VFS masks one write's length to 17 bits
    /// (SQLite itself never writes more than a 64 KiB page at once), so a 1 MiB write would
    /// write nothing and report SQLITE_FULL.
    func write(pages bytes: [UInt8], pageSize: Int, at offset: Int64) throws(ReplicaApplyError) {
        let rc = bytes.withUnsafeBytes { raw -> Int32 in
            var done = 0
            while done < raw.count {
                let n = min(pageSize, raw.count - done)
                let rc = write(UnsafeRawBufferPointer(rebasing: raw[done..<(done + n)]), at: offset + Int64(done))
                if rc != SQLITE_OK { return rc }
                done += n
            }
            return SQLITE_OK
        }
        guard rc == SQLITE_OK else { throw .io(operation: "xWrite", code: rc) }
    }

    private func write(_ raw: UnsafeRawBufferPointer, at offset: Int64) -> Int32 {
        guard let xWrite = methods.pointee.xWrite else { return SQLITE_MISUSE }
        return xWrite(file, raw.baseAddress, Int32(raw.count), offset)
    }

    func size() throws(ReplicaApplyError) -> Int64 {
        guard let xFileSize = methods.pointee.xFileSize else { throw .noFileHandle }
        var size: sqlite3_int64 = 0
        let rc = xFileSize(file, &size)
        guard rc == SQLITE_OK else { throw .io(operation: "xFileSize", code: rc) }
        return size
    }

    func truncate(to size: Int64) throws(ReplicaApplyError) {
        guard let xTruncate = methods.pointee.xTruncate else { throw .noFileHandle }
        let rc = xTruncate(file, size)
        guard rc == SQLITE_OK else { throw .io(operation: "xTruncate", code: rc) }
    }

    func sync() throws(ReplicaApplyError) {
        guard let xSync = methods.pointee.xSync else { throw .noFileHandle }
        let rc = xSync(file, SQLITE_SYNC_NORMAL)
        guard rc == SQLITE_OK else { throw .io(operation: "xSync", code: rc) }
    }
}
