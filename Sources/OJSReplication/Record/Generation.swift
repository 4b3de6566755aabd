import OJSCore

/// Identifies one continuous history of the primary's database. Transaction ids and the
/// checksum chain only mean something within a generation: a replica that finds a different
/// generation on the primary must re-bootstrap rather than apply records onto a foreign base.
public struct Generation: Sendable, Hashable, CustomStringConvertible {
    public static let byteCount = 16

    /// Exactly 16 bytes; the initializers guarantee it.
    public let bytes: [UInt8]
    /// Lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`: formatted once, because every response
    /// on the primary carries it in its bookmark (formatting it per request was 2 % of a
    /// static route's CPU, perf).
    public let text: String

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Generation.byteCount else { return nil }
        self.init(uncheckedBytes: Array(bytes))
    }

    /// A random version-4 UUID. The version/variant bits are set only so the text form looks
    /// like a UUID to humans and tools; nothing in the protocol depends on them.
    public static func random() -> Generation {
        var rng = SystemRandomNumberGenerator()
        var raw = (0..<Generation.byteCount).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        return Generation(uncheckedBytes: raw)
    }

    init(uncheckedBytes: [UInt8]) {
        self.bytes = uncheckedBytes
        self.text = Self.format(uncheckedBytes)
    }

    private static func format(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append("-") }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    public var description: String { text }

    /// Accepts the dashed UUID form (either case) or 32 bare hex digits, so values pasted from
    /// logs or query strings parse whichever way they were written.
    public init?(text: String) {
        let utf8 = Array(text.utf8)
        let hex: [UInt8]
        if utf8.count == 36 {
            for dash in [8, 13, 18, 23] where utf8[dash] != UInt8(ascii: "-") { return nil }
            hex = utf8.enumerated().filter { ![8, 13, 18, 23].contains($0.offset) }.map(\.element)
        } else if utf8.count == 32 {
            hex = utf8
        } else {
            return nil
        }
        var raw: [UInt8] = []
        raw.reserveCapacity(Generation.byteCount)
        var index = 0
        while index < hex.count {
            guard let high = Hex.nibble(hex[index]), let low = Hex.nibble(hex[index + 1]) else {
                return nil
            }
            raw.append(high << 4 | low)
            index += 2
        }
        self.init(uncheckedBytes: raw)
    }
}
