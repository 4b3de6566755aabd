/// The name patterns OJS fixes for job types, queues and cron names.
public enum Names {
    /// `^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$`, at most 255 characters.
    public static func isValidJobType(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 255 else { return false }
        var atSegmentStart = true
        for c in u {
            if atSegmentStart {
                guard isLower(c) else { return false }
                atSegmentStart = false
            } else if c == UInt8(ascii: ".") {
                atSegmentStart = true
            } else if !(isLower(c) || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")) {
                return false
            }
        }
        return !atSegmentStart
    }

    /// `^[a-z0-9][a-z0-9\-\.]*$`, at most `maxLength` characters (queues 128, cron names 255).
    public static func isValidQueue(_ s: String, maxLength: Int = 128) -> Bool {
        let u = Array(s.utf8)
        guard let first = u.first, u.count <= maxLength, isLower(first) || isDigit(first) else { return false }
        return u.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    @inline(__always) static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
}
