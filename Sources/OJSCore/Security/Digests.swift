import Crypto

/// SHA-256 and HMAC-SHA256 as the core uses them, from swift-crypto: the fingerprints of unique
/// jobs and idempotent pushes, and the `X-OJS-Signature` of push deliveries. Hex is lowercase.
///
///     Digests.sha256Hex("abc")
///     // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
///     Digests.hmacSHA256Hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
///     // "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" (RFC 4231, case 2)
public enum Digests {
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    public static func sha256Hex(_ text: String) -> String {
        sha256Hex(Array(text.utf8))
    }

    public static func hmacSHA256Hex(key: [UInt8], message: [UInt8]) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Lowercase hex of any byte sequence (a digest, a MAC).
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 { Hex.encode(bytes) }
}
