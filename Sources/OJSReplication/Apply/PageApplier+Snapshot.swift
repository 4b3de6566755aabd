#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PageApplier {
    /// Creates (or replaces) the replica file at `path` from a page-exact image of the
    /// primary (e.g. a backup-API copy or `sqlite3_serialize`), switched to rollback-journal
    /// mode. No connection may have `path` open.
    ///
    /// The image is written to a temporary file beside `path`, fsynced, and renamed into
    /// place, so a crash leaves either the old file or the complete new one.
    public static func installSnapshot(image: [UInt8], at path: String) throws(ReplicaApplyError) {
        guard image.count >= DatabaseHeader.size, image.starts(with: DatabaseHeader.magic) else {
            throw .invalidSnapshot("not a SQLite database image")
        }
        guard let pageSize = image.withUnsafeBytes({ DatabaseHeader.pageSize($0) }) else {
            throw .invalidSnapshot("invalid page size in header")
        }
        guard image.count % Int(pageSize) == 0 else {
            throw .invalidSnapshot("\(image.count) bytes is not a whole number of \(pageSize)-byte pages")
        }
        var patched = image
        // A WAL-mode primary's header says 2/2; left as is, the first connection to open the
        // replica would turn it into a WAL database.
        patched[DatabaseHeader.writeVersionOffset] = DatabaseHeader.rollbackJournalVersion
        patched[DatabaseHeader.readVersionOffset] = DatabaseHeader.rollbackJournalVersion

        let temporary = path + ".install-\(getpid())"
        try writeDurably(patched, to: temporary)
        // A leftover hot journal would be "rolled back" onto the new image, and a leftover
        // -wal would be replayed over it (SQLite opens a present WAL whatever the header says),
        // so they must be gone before the new file appears under this name.
        for suffix in ["-journal", "-wal", "-shm"] {
            if unlink(path + suffix) != 0 && errno != ENOENT {
                let e = errno
                unlink(temporary)
                throw .snapshot(operation: "unlink", path: path + suffix, errno: e)
            }
        }
        if rename(temporary, path) != 0 {
            let e = errno
            unlink(temporary)
            throw .snapshot(operation: "rename", path: path, errno: e)
        }
        try syncDirectory(of: path)
    }

    private static func writeDurably(_ bytes: [UInt8], to path: String) throws(ReplicaApplyError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .snapshot(operation: "open", path: path, errno: errno) }
        var failure: (operation: String, errno: Int32)?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress.map { $0 + done }, raw.count - done)
                if n >= 0 {
                    done += n
                } else if errno != EINTR {
                    failure = ("write", errno)
                    return
                }
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = ("fsync", errno) }
        if close(fd) != 0 && failure == nil { failure = ("close", errno) }
        if let failure {
            unlink(path)
            throw .snapshot(operation: failure.operation, path: path, errno: failure.errno)
        }
    }

    /// Makes the rename itself durable.
    private static func syncDirectory(of path: String) throws(ReplicaApplyError) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .snapshot(operation: "open", path: directory, errno: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .snapshot(operation: "fsync", path: directory, errno: errno) }
    }
}
