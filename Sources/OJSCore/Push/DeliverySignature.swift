/// The signature of a push delivery: `sha256=` and the hex HMAC-SHA256 of the
/// exact body bytes, keyed with the endpoint's secret. A function recomputes it over the raw
/// bytes it received (before any JSON parsing) and compares in constant time.
public enum DeliverySignature {
    public static let prefix = "sha256="

    public static func header(body: [UInt8], secret: String) -> String {
        prefix + Digests.hmacSHA256Hex(key: Array(secret.utf8), message: body)
    }

    /// Whether `header` signs `body` with `secret`, in constant time (`ConstantTime`).
    public static func verify(header: String, body: [UInt8], secret: String) -> Bool {
        ConstantTime.equal(self.header(body: body, secret: secret), header)
    }
}
