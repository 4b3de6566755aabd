/// RFC 9562 version-7 UUIDs: a 48-bit Unix-millisecond timestamp, then random bits, so ids
/// sort roughly by creation time. Always rendered lowercase, as OJS requires.
public enum UUIDv7 {
    public static func make<G: RandomNumberGenerator>(millis: Int64, using rng: inout G) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let ts = UInt64(max(0, millis)) & 0xFFFF_FFFF_FFFF
        for i in 0..<6 { bytes[i] = UInt8((ts >> (8 * (5 - UInt64(i)))) & 0xFF) }
        var r1 = rng.next() as UInt64
        var r2 = rng.next() as UInt64
        for i in 6..<11 {
            bytes[i] = UInt8(r1 & 0xFF)
            r1 >>= 8
        }
        for i in 11..<16 {
            bytes[i] = UInt8(r2 & 0xFF)
            r2 >>= 8
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // RFC 4122 variant
        return format(bytes)
    }

    public static func make(millis: Int64) -> String {
        var rng = SystemRandomNumberGenerator()
        return make(millis: millis, using: &rng)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func format(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `s` is a lowercase UUIDv7 in canonical form.
    public static func isValid(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            switch i {
            case 8, 13, 18, 23:
                if c != UInt8(ascii: "-") { return false }
            case 14:
                if c != UInt8(ascii: "7") { return false }
            case 19:
                if !(c == UInt8(ascii: "8") || c == UInt8(ascii: "9") || c == UInt8(ascii: "a") || c == UInt8(ascii: "b")) {
                    return false
                }
            default:
                let isHex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
                if !isHex { return false }
            }
        }
        return true
    }
}
