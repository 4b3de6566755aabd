import Crypto
import Foundation

/// Seals secrets (push endpoints' signing keys) with AES-256-GCM before they are stored, so the
/// database, its WAL, the replication log, snapshots and replicas hold only ciphertext. The key
/// lives outside the database (`OJS_SECRET_KEY` or a key file); replicas never need it, since
/// only the primary signs deliveries.
///
/// A sealed value is text, so the column stays `TEXT` and D1-compatible:
///
///     sealed:v1:<key id, 8 hex>:<base64 of nonce ‖ ciphertext ‖ tag>
///
/// The key id names the key that sealed it, so a node given its previous keys after a rotation
/// can still open old values and reseal them. The associated data binds a value to its row
/// (`context`, e.g. the queue), so a sealed secret copied onto another row does not open.
///
///     let sealer = try SecretSealer(key: SecretSealer.generateKey())
///     let stored = try sealer.seal("whsec_123", context: "push_endpoints:emails")
///     try sealer.open(stored, context: "push_endpoints:emails")   // "whsec_123"
public struct SecretSealer: Sendable {
    public static let keyBytes = 32
    static let prefix = "sealed:v1:"

    let current: SymmetricKey
    public let keyId: String
    let previous: [String: SymmetricKey]

    /// `key` seals; `previous` keys (older ones, after a rotation) only open.
    public init(key: [UInt8], previous: [[UInt8]] = []) throws(SecretSealerError) {
        guard key.count == Self.keyBytes else { throw .badKey("a secret key must be \(Self.keyBytes) bytes, not \(key.count)") }
        current = SymmetricKey(data: key)
        keyId = Self.keyId(key)
        var older: [String: SymmetricKey] = [:]
        for k in previous {
            guard k.count == Self.keyBytes else { throw .badKey("a previous secret key must be \(Self.keyBytes) bytes, not \(k.count)") }
            older[Self.keyId(k)] = SymmetricKey(data: k)
        }
        self.previous = older
    }

    /// A new random key: 32 bytes from the system's CSPRNG.
    public static func generateKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// Parses a key as `OJS_SECRET_KEY` and the key file give it: base64 of 32 bytes.
    public static func parseKey(_ text: String) throws(SecretSealerError) -> [UInt8] {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == keyBytes else {
            throw .badKey("a secret key is the base64 of \(keyBytes) random bytes (for example: openssl rand -base64 32)")
        }
        return Array(data)
    }

    static func keyId(_ key: [UInt8]) -> String {
        String(Digests.sha256Hex(Array("ojs-edge secret key id\n".utf8) + key).prefix(8))
    }

    public static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    public func seal(_ plaintext: String, context: String) throws(SecretSealerError) -> String {
        do {
            let box = try AES.GCM.seal(Array(plaintext.utf8), using: current, authenticating: Array(context.utf8))
            guard let combined = box.combined else { throw SecretSealerError.corrupt("sealing produced no output") }
            return Self.prefix + keyId + ":" + combined.base64EncodedString()
        } catch let error as SecretSealerError {
            throw error
        } catch {
            throw .corrupt("sealing failed: \(error)")
        }
    }

    /// The plaintext of a sealed value. A value stored before sealing existed (no prefix) is
    /// returned as it is, so `needsReseal` can find it and it can be sealed in place.
    public func open(_ stored: String, context: String) throws(SecretSealerError) -> String {
        guard Self.isSealed(stored) else { return stored }
        let rest = stored.dropFirst(Self.prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { throw .corrupt("a sealed value without a key id") }
        let id = String(rest[..<colon])
        guard let key = id == keyId ? current : previous[id] else {
            throw .unknownKey("sealed with key \(id), which this node does not have (set OJS_SECRET_KEY or OJS_SECRET_KEY_PREVIOUS)")
        }
        guard let combined = Data(base64Encoded: String(rest[rest.index(after: colon)...])) else {
            throw .corrupt("a sealed value that is not base64")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plain = try AES.GCM.open(box, using: key, authenticating: Array(context.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw .corrupt("a sealed value that does not authenticate")
        }
    }

    /// Whether `stored` is plaintext, or sealed under a key other than the current one.
    public func needsReseal(_ stored: String) -> Bool {
        !stored.hasPrefix(Self.prefix + keyId + ":")
    }
}

public enum SecretSealerError: Error, Sendable, Equatable, CustomStringConvertible {
    case badKey(String)
    case unknownKey(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .badKey(let why), .unknownKey(let why), .corrupt(let why): return why
        }
    }
}
