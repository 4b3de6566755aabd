/// Which dead letters a bulk replay or delete applies to: every field optional, all given
/// fields must match. An empty filter matches the whole dead-letter queue, bounded by `limit`.
public struct DeadLetterFilter: Sendable, Equatable {
    public var queue: String?
    public var type: String?
    /// Matches the last error's `code`.
    public var errorCode: String?
    /// Matches the last error's `type` (what `GET …/dead-letter/stats` groups by).
    public var errorType: String?
    /// Dead-lettered at or after (Unix ms).
    public var since: Int64?
    /// Dead-lettered before (Unix ms).
    public var until: Int64?
    /// At most this many jobs per request; the rest stay for the next request.
    public var limit: Int = DeadLetterFilter.maxLimit
    /// A bulk delete cannot be undone, so it must say so (`"confirm": true`).
    public var confirmed = false

    /// One request never touches more than this many jobs, so a replay of a huge queue is a
    /// series of bounded requests rather than one that holds the writer for minutes.
    public static let maxLimit = 10_000

    static let fields: Set<String> = ["queue", "type", "error_code", "error_type", "since", "until", "limit", "confirm"]

    public init() {}

    /// Parses the request body (`{}` or absent for "everything"). Unknown fields are refused
    /// rather than ignored: a misspelt `"queues"` silently widening a delete to the whole
    /// queue would be the worst possible reading.
    public static func parse(_ body: JSONValue) throws(OJSError) -> DeadLetterFilter {
        if body.isNull { return DeadLetterFilter() }
        guard let object = body.objectValue else {
            throw OJSError.invalid("The request body must be a JSON object (the filter).")
        }
        if let unknown = object.keys.first(where: { !fields.contains($0) }) {
            throw OJSError.invalid(
                "Unknown filter field '\(unknown)'; expected queue, type, error_code, error_type, since, until, limit, confirm.",
                field: unknown
            )
        }
        var filter = DeadLetterFilter()
        filter.queue = try nonEmpty(object, "queue")
        filter.type = try nonEmpty(object, "type")
        filter.errorCode = try nonEmpty(object, "error_code")
        filter.errorType = try nonEmpty(object, "error_type")
        filter.since = try timestamp(object, "since")
        filter.until = try timestamp(object, "until")
        if let since = filter.since, let until = filter.until, since > until {
            throw OJSError.invalid("'since' must not be later than 'until'.", field: "since")
        }
        if let v = object["limit"], !v.isNull {
            guard let n = v.intValue, (1...Int64(maxLimit)).contains(n) else {
                throw OJSError.invalid("'limit' must be an integer from 1 to \(maxLimit).", field: "limit")
            }
            filter.limit = Int(n)
        }
        filter.confirmed = try object.bool("confirm") ?? false
        return filter
    }

    private static func nonEmpty(_ object: JSONObject, _ key: String) throws(OJSError) -> String? {
        guard let s = try object.string(key) else { return nil }
        guard !s.isEmpty else { throw OJSError.invalid("'\(key)' must not be empty.", field: key) }
        return s
    }

    private static func timestamp(_ object: JSONObject, _ key: String) throws(OJSError) -> Int64? {
        guard let s = try object.string(key) else { return nil }
        guard let ms = Timestamp.parse(s) else {
            throw OJSError.invalid("'\(key)' must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z.", field: key)
        }
        return ms
    }
}
