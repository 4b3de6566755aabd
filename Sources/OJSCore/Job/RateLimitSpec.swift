/// `options.rate_limit`: either the level-4 queue form `{"max_per_second": N}` or a keyed
/// partition `{"key", "concurrency", "rate", "period", "on_limit"}` (rate-limiting extension).
public struct RateLimitSpec: Sendable, Equatable {
    public enum OnLimit: String, Sendable, Equatable { case wait, reschedule, drop }

    /// Queue-wide starts per second.
    public var maxPerSecond: Int?
    /// Keyed partition.
    public var key: String?
    public var concurrency: Int?
    public var rateLimit: Int?
    public var ratePeriodMs: Int64?
    public var onLimit: OnLimit = .wait

    public init() {}

    public static func parse(_ value: JSONValue) throws(OJSError) -> RateLimitSpec {
        guard let o = value.objectValue else { throw OJSError.invalid("options.rate_limit must be an object.", field: "options.rate_limit") }
        var spec = RateLimitSpec()
        func positive(_ v: JSONValue?, _ field: String) throws(OJSError) -> Int? {
            guard let v, !v.isNull else { return nil }
            guard let n = v.intValue, n > 0, n <= 1_000_000_000 else {
                throw OJSError.invalid("options.rate_limit.\(field) must be a positive integer.", field: "options.rate_limit.\(field)")
            }
            return Int(n)
        }
        spec.maxPerSecond = try positive(o["max_per_second"], "max_per_second")
        if let k = o["key"], !k.isNull {
            guard let key = k.stringValue, Self.isValidKey(key) else {
                throw OJSError.invalid("options.rate_limit.key must match ^[a-zA-Z0-9][a-zA-Z0-9._:-]*$.", field: "options.rate_limit.key")
            }
            spec.key = key
        }
        spec.concurrency = try positive(o["concurrency"], "concurrency")
        if let rate = o["rate"], !rate.isNull {
            if let ro = rate.objectValue {
                spec.rateLimit = try positive(ro["limit"], "rate.limit")
                spec.ratePeriodMs = try period(ro["period"])
            } else {
                spec.rateLimit = try positive(rate, "rate")
                spec.ratePeriodMs = try period(o["period"])
            }
            if spec.rateLimit != nil, spec.ratePeriodMs == nil { spec.ratePeriodMs = 1000 }
        }
        if let t = o["throttle"]?.objectValue, spec.rateLimit == nil {
            spec.rateLimit = try positive(t["limit"], "throttle.limit")
            spec.ratePeriodMs = try period(t["period"]) ?? 1000
        }
        if let ol = o["on_limit"], !ol.isNull {
            guard let s = ol.stringValue, let v = OnLimit(rawValue: s) else {
                throw OJSError.invalid("options.rate_limit.on_limit must be wait, reschedule or drop.", field: "options.rate_limit.on_limit")
            }
            spec.onLimit = v
        }
        return spec
    }

    static func period(_ v: JSONValue?) throws(OJSError) -> Int64? {
        guard let v, !v.isNull else { return nil }
        if let n = v.intValue, n > 0 { return n * 1000 }
        guard let s = v.stringValue else {
            throw OJSError.invalid("options.rate_limit.period must be a duration.", field: "options.rate_limit.period")
        }
        switch s.lowercased() {
        case "second", "sec", "s": return 1000
        case "minute", "min", "m": return 60_000
        case "hour", "h": return 3_600_000
        case "day", "d": return 86_400_000
        default:
            guard let ms = ISODuration.parseMillis(s), ms > 0 else {
                throw OJSError.invalid(
                    "options.rate_limit.period must be second, minute, hour or an ISO 8601 duration.",
                    field: "options.rate_limit.period"
                )
            }
            return ms
        }
    }

    public static func isValidKey(_ key: String) -> Bool {
        let u = Array(key.utf8)
        guard let first = u.first, u.count <= 255, isAlnum(first) else { return false }
        return u.allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
}
