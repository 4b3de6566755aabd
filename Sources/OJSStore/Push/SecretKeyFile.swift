import Foundation
import OJSCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The key that seals push secrets, kept outside the database: `OJS_SECRET_KEY` when set,
/// otherwise a key file (default `<data-dir>/secret.key`) that the first start creates with
/// mode 0600. The file is never replicated, snapshotted or logged; back it up apart from the
/// database (`docs/security.md`), since without it sealed secrets cannot be opened and every
/// push endpoint must be bound again.
///
///     let key = try SecretKeyFile.loadOrCreate(path: "./data/secret.key")
public enum SecretKeyFile {
    public static let defaultName = "secret.key"

    /// The key in `path`, creating the file with a new random key if it does not exist.
    /// Refuses a file that others can read: a key anyone on the machine can read protects
    /// nothing.
    public static func loadOrCreate(path: String) throws(SecretSealerError) -> [UInt8] {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd >= 0 {
            let text = Data(SecretSealer.generateKey()).base64EncodedString() + "\n"
            let written = text.utf8CString.withUnsafeBufferPointer { buffer in write(fd, buffer.baseAddress, buffer.count - 1) }
            let synced = fsync(fd) == 0
            close(fd)
            guard written == text.utf8.count, synced else {
                unlink(path)
                throw .badKey("cannot write a new secret key file at \(path): \(String(cString: strerror(errno)))")
            }
        } else if errno != EEXIST {
            throw .badKey("cannot create the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .badKey("cannot read the secret key file \(path): \(String(cString: strerror(errno)))") }
        guard info.st_mode & 0o077 == 0 else {
            throw .badKey("the secret key file \(path) is readable by other users; chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .badKey("cannot read the secret key file \(path)")
        }
        return try SecretSealer.parseKey(text)
    }
}
