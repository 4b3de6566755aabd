import Foundation
import OJSCore
import OJSStore

/// The key that seals push secrets, for every command that opens a writable store.
enum SecretKeyOptions {
    /// `OJS_SECRET_KEY`, else the key file (`secretKeyFile`, or `<dataDir>/secret.key`,
    /// created on first start), plus the previous keys of a rotation
    /// (`OJS_SECRET_KEY_PREVIOUS`, comma-separated).
    static func sealer(dataDir: String, secretKeyFile: String) throws -> SecretSealer {
        let key: [UInt8]
        if let text = Env.string("OJS_SECRET_KEY") {
            key = try SecretSealer.parseKey(text)
        } else {
            let path = secretKeyFile.isEmpty ? URL(fileURLWithPath: dataDir).appendingPathComponent(SecretKeyFile.defaultName).path : secretKeyFile
            key = try SecretKeyFile.loadOrCreate(path: path)
        }
        let previous = try (Env.string("OJS_SECRET_KEY_PREVIOUS") ?? "").split(separator: ",").map { try SecretSealer.parseKey(String($0)) }
        return try SecretSealer(key: key, previous: previous)
    }
}
