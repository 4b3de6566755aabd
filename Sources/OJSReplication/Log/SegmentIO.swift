#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX file operations with EINTR/short-transfer handling and errors as
/// `ReplicationLogError.io`. Raw syscalls rather than FileHandle because durability here
/// depends on exactly when `fsync` runs, including on directories.
enum SegmentIO {
    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw ReplicationLogError.io(operation: "open", path: path, errno: errno) }
        }
    }

    static func closeFile(_ fd: Int32) {
        // Retrying close after EINTR can close a reused descriptor on Linux; never retry.
        _ = close(fd)
    }

    static func size(_ fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ReplicationLogError.io(operation: "fstat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    /// Reads exactly `count` bytes at `offset`, or fewer only if the file ends first.
    static func read(_ fd: Int32, count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            guard let base = buffer.baseAddress else {
                initialized = 0
                return
            }
            while done < count {
                let n = pread(fd, base + done, count - done, off_t(offset + done))
                if n > 0 {
                    done += n
                    continue
                }
                if n == 0 { break }
                if errno == EINTR { continue }
                failure = errno
                break
            }
            initialized = done
        }
        if failure != 0 { throw ReplicationLogError.io(operation: "pread", path: path, errno: failure) }
        return bytes
    }

    static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            guard let base = raw.baseAddress else { return }
            while done < raw.count {
                let n = pwrite(fd, base + done, raw.count - done, off_t(offset + done))
                if n > 0 {
                    done += n
                    continue
                }
                if n < 0, errno == EINTR { continue }
                throw ReplicationLogError.io(operation: "pwrite", path: path, errno: n < 0 ? errno : EIO)
            }
        }
    }

    static func syncFile(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw ReplicationLogError.io(operation: "fsync", path: path, errno: errno) }
    }

    static func truncate(_ fd: Int32, to length: Int, path: String) throws {
        while ftruncate(fd, off_t(length)) != 0 {
            if errno != EINTR { throw ReplicationLogError.io(operation: "ftruncate", path: path, errno: errno) }
        }
    }

    /// Makes creations, renames and unlinks in `directory` durable; without it a crash can
    /// lose a new segment's directory entry even though its data was fsynced.
    static func syncDirectory(_ directory: String) throws {
        let fd = try openFile(directory, O_RDONLY | O_DIRECTORY)
        defer { closeFile(fd) }
        try syncFile(fd, path: directory)
    }

    static func removeFile(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw ReplicationLogError.io(operation: "unlink", path: path, errno: errno)
        }
    }

    static func renameFile(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else { throw ReplicationLogError.io(operation: "rename", path: to, errno: errno) }
    }

    /// Writes a small file atomically: temp file, fsync, rename over, fsync the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws {
        let temp = path + ".tmp"
        let fd = try openFile(temp, O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try write(fd, bytes, at: 0, path: temp)
            try syncFile(fd, path: temp)
        } catch {
            closeFile(fd)
            try? removeFile(temp)
            throw error
        }
        closeFile(fd)
        try renameFile(temp, path)
        try syncDirectory(directory)
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Names of the entries in `directory` (not `.`/`..`).
    static func list(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            throw ReplicationLogError.io(operation: "opendir", path: directory, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return }
        guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            throw ReplicationLogError.io(operation: "mkdir", path: path, errno: errno)
        }
        try makeDirectories(String(path[..<slash]))
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw ReplicationLogError.io(operation: "mkdir", path: path, errno: errno)
        }
    }
}
