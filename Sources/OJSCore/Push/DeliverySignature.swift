/// The signature of a push delivery: `sha256=` and the hex HMAC-SHA256 of the
/// exact body bytes, keyed with the endpoint's secret. A function recomputes it over the raw
/// bytes it received (before any JSON parsing) and compares in constant time.
public enum DeliverySignature {
    public static let prefix = "sha256="

    public static func header(body: [UInt8], secret: String) -> String {
        prefix + SHA256.hexString(SHA256.hmac(key: Array(secret.utf8), message: body))
    }

    /// Whether `header` signs `body` with `secret`; compares every byte whatever the result.
    public static func verify(header: String, body: [UInt8], secret: String) -> Bool {
        let expected = Array(self.header(body: body, secret: secret).utf8)
        let given = Array(header.utf8)
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0
    }
}
