#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PageApplier {
    /// Bytes copied per write while rewriting a copy from an image: bounded memory, and large
    /// enough for sequential I/O.
    static let imageCopyBytes = 1 << 20

    /// Makes the page-exact image file at `imagePath` (a verified snapshot download) the
    /// replica file at `path`, switched to rollback-journal mode. The image file is consumed
    /// (renamed). No connection may have `path` open.
    ///
    /// The image is fsynced before the rename and the directory after it, so a crash leaves
    /// either no file at `path` or the complete new one.
    public static func installSnapshot(fileAt imagePath: String, at path: String) throws(ReplicaApplyError) {
        do {
            let fd = try SegmentIO.openFile(imagePath, O_RDWR)
            defer { SegmentIO.closeFile(fd) }
            let size = try SegmentIO.size(fd, path: imagePath)
            var header = try SegmentIO.read(fd, count: DatabaseHeader.size, at: 0, path: imagePath)
            try validate(header: header, size: size)
            // A WAL-mode primary's header says 2/2; left as is, the first connection to open
            // the replica would turn it into a WAL database.
            header[DatabaseHeader.writeVersionOffset] = DatabaseHeader.rollbackJournalVersion
            header[DatabaseHeader.readVersionOffset] = DatabaseHeader.rollbackJournalVersion
            try SegmentIO.write(fd, Array(header[18..<20]), at: DatabaseHeader.writeVersionOffset, path: imagePath)
            try SegmentIO.syncFile(fd, path: imagePath)
            // A leftover hot journal would be "rolled back" onto the new image, and a leftover
            // -wal would be replayed over it (SQLite opens a present WAL whatever the header
            // says), so they must be gone before the new file appears under this name.
            for suffix in ["-journal", "-wal", "-shm"] { try SegmentIO.removeFile(path + suffix) }
            try SegmentIO.renameFile(imagePath, path)
            try SegmentIO.syncDirectory(directory(of: path))
        } catch let error as ReplicaApplyError {
            throw error
        } catch ReplicationLogError.io(let operation, let failed, let e) {
            throw .snapshot(operation: operation, path: failed, errno: e)
        } catch {
            throw .invalidSnapshot("\(error)")
        }
    }

    /// Rewrites this open copy from the image file at `imagePath`, as one step for readers
    /// that respect `lock` (they wait for the whole rewrite, then see the new state), so the
    /// connections already open on the file keep working. Copies `imageCopyBytes` at a time:
    /// memory does not grow with the image. The image file is left in place.
    public func replaceContents(withImageAt imagePath: String, lock: ReplicaLock) throws(ReplicaApplyError) {
        let source: Int32
        let size: Int
        let imageHeader: [UInt8]
        do {
            source = try SegmentIO.openFile(imagePath, O_RDONLY)
            size = try SegmentIO.size(source, path: imagePath)
            imageHeader = try SegmentIO.read(source, count: DatabaseHeader.size, at: 0, path: imagePath)
        } catch {
            throw .invalidSnapshot("cannot read \(imagePath): \(error)")
        }
        defer { SegmentIO.closeFile(source) }
        try Self.validate(header: imageHeader, size: size)
        let pageSize = imageHeader.withUnsafeBytes { DatabaseHeader.pageSize($0) } ?? 0
        try lock.withWriteLock { () throws(ReplicaApplyError) in
            try execute("BEGIN EXCLUSIVE")
            do throws(ReplicaApplyError) {
                let file = try SQLiteFileHandle(connection)
                let current = try file.read(count: DatabaseHeader.size, at: 0)
                let counter = current.withUnsafeBytes { DatabaseHeader.readBE32($0, DatabaseHeader.changeCounterOffset) } &+ 1
                var offset = 0
                while offset < size {
                    var bytes: [UInt8]
                    do {
                        bytes = try SegmentIO.read(source, count: min(Self.imageCopyBytes, size - offset), at: offset, path: imagePath)
                    } catch {
                        throw ReplicaApplyError.invalidSnapshot("cannot read \(imagePath): \(error)")
                    }
                    guard !bytes.isEmpty else { throw ReplicaApplyError.invalidSnapshot("\(imagePath) ended at \(offset) bytes") }
                    if offset == 0 {
                        DatabaseHeader.patch(&bytes, changeCounter: counter, databasePages: UInt32(size / Int(pageSize)))
                    }
                    try file.write(pages: bytes, pageSize: Int(pageSize), at: Int64(offset))
                    offset += bytes.count
                }
                if try file.size() != Int64(size) { try file.truncate(to: Int64(size)) }
                try file.sync()
                try execute("COMMIT")
            } catch {
                // Releases the EXCLUSIVE lock; the raw writes are not undone (the caller has
                // already dropped the copy's position, so it is not served).
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    static func validate(header: [UInt8], size: Int) throws(ReplicaApplyError) {
        guard header.count >= DatabaseHeader.size, header.starts(with: DatabaseHeader.magic) else {
            throw .invalidSnapshot("not a SQLite database image")
        }
        guard let pageSize = header.withUnsafeBytes({ DatabaseHeader.pageSize($0) }) else {
            throw .invalidSnapshot("invalid page size in header")
        }
        guard size % Int(pageSize) == 0 else {
            throw .invalidSnapshot("\(size) bytes is not a whole number of \(pageSize)-byte pages")
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
