import Crypto

/// The one constant-time comparison of secrets: API keys, the replication key, push signatures.
///
/// Both sides are hashed with SHA-256 first and the digests compared with swift-crypto's
/// constant-time equality, so neither where the inputs differ nor their lengths show in the
/// time taken.
///
///     ConstantTime.equal(sentKey, configuredKey)
public enum ConstantTime {
    public static func equal(_ a: String, _ b: String) -> Bool {
        SHA256.hash(data: Array(a.utf8)) == SHA256.hash(data: Array(b.utf8))
    }
}
