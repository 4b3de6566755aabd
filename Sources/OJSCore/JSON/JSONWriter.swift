/// Serialises JSON into a byte array. Besides whole values it can emit an object field by
/// field and splice in already-serialised object text, which is how stored job documents are
/// returned without being parsed again.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Whether the next field in the current object needs a leading comma.
    private var needsComma: [Bool] = []

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: whole values

    public mutating func write(_ value: JSONValue, sortedKeys: Bool = false) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): writeInt(i)
        case .double(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in a.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element, sortedKeys: sortedKeys)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o):
            bytes.append(UInt8(ascii: "{"))
            let entries = sortedKeys ? o.entries.sorted { $0.key < $1.key } : o.entries
            for (i, entry) in entries.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(entry.key)
                bytes.append(UInt8(ascii: ":"))
                write(entry.value, sortedKeys: sortedKeys)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public static func serialize(_ value: JSONValue, sortedKeys: Bool = false) -> String {
        var w = JSONWriter()
        w.write(value, sortedKeys: sortedKeys)
        return w.string
    }

    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var w = JSONWriter()
        w.write(value)
        return w.bytes
    }

    // MARK: field-by-field objects

    public mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma.removeLast()
    }

    /// Writes `"key":` and leaves the value to the caller.
    public mutating func key(_ key: String) {
        if needsComma.last == true { bytes.append(UInt8(ascii: ",")) }
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func field(_ name: String, _ value: JSONValue) {
        key(name)
        write(value)
    }

    public mutating func field(_ name: String, _ value: String) {
        key(name)
        writeString(value)
    }

    public mutating func field(_ name: String, _ value: Int64) {
        key(name)
        writeInt(value)
    }

    public mutating func field(_ name: String, _ value: Int) { field(name, Int64(value)) }

    public mutating func field(_ name: String, _ value: Bool) {
        key(name)
        append(value ? "true" : "false")
    }

    /// Writes a field whose value is already-serialised JSON text (trusted, from storage).
    public mutating func rawField(_ name: String, _ json: String) {
        key(name)
        bytes.append(contentsOf: json.utf8)
    }

    /// Splices the members of a serialised JSON object (`{"a":1,"b":2}`) into the object
    /// being written, as if each had been written with `field`.
    public mutating func spliceObjectMembers(_ objectText: String) {
        var utf8 = Array(objectText.utf8)
        // Trim to the contents between the outer braces.
        while let last = utf8.last, last != UInt8(ascii: "}") { utf8.removeLast() }
        guard utf8.count >= 2, let open = utf8.firstIndex(of: UInt8(ascii: "{")) else { return }
        let inner = utf8[(open + 1)..<(utf8.count - 1)]
        guard inner.contains(where: { $0 != 0x20 }) else { return }
        if needsComma.last == true { bytes.append(UInt8(ascii: ",")) }
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
        bytes.append(contentsOf: inner)
    }

    /// Appends raw, trusted JSON text.
    public mutating func raw(_ json: String) { bytes.append(contentsOf: json.utf8) }

    // MARK: scalars

    private mutating func append(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    public mutating func writeInt(_ i: Int64) {
        if i >= 0 && i < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(i))
            return
        }
        bytes.append(contentsOf: String(i).utf8)
    }

    public mutating func writeDouble(_ d: Double) {
        guard d.isFinite else {
            append("null")
            return
        }
        // Swift's description is the shortest round-tripping form and keeps "1.0" a float.
        bytes.append(contentsOf: d.description.utf8)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""):
                bytes.append(0x5C)
                bytes.append(0x22)
            case UInt8(ascii: "\\"):
                bytes.append(0x5C)
                bytes.append(0x5C)
            case 0x0A:
                bytes.append(0x5C)
                bytes.append(UInt8(ascii: "n"))
            case 0x0D:
                bytes.append(0x5C)
                bytes.append(UInt8(ascii: "r"))
            case 0x09:
                bytes.append(0x5C)
                bytes.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hex[Int(b >> 4)])
                bytes.append(Self.hex[Int(b & 0xF)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// Compact serialisation.
    public var jsonText: String { JSONWriter.serialize(self) }
    /// Sorted-key compact serialisation, the canonical form used for fingerprints.
    public var canonicalText: String { JSONWriter.serialize(self, sortedKeys: true) }
}
