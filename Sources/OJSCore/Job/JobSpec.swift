/// A validated enqueue request: everything `POST /ojs/v1/jobs` (and each element of a batch,
/// workflow or cron template) may carry, resolved against `now`.
public struct JobSpec: Sendable {
    public var id: String?
    public var type: String
    public var queue: String = "default"
    public var args: JSONValue = .array([])
    public var meta = JSONObject()
    public var schema: String?
    public var priority: Int = 0
    public var timeoutMs: Int64?
    public var visibilityTimeoutMs: Int64?
    /// Resolved `scheduled_at` / `delay_until` and the text echoed back (verbatim when absolute).
    public var scheduledAt: (millis: Int64, text: String)?
    public var expiresAt: (millis: Int64, text: String)?
    public var retry = RetryPolicy()
    public var retrySent = false
    public var unique: UniquePolicy?
    public var tags: [String] = []
    public var pending = false
    public var rateLimit: RateLimitSpec?
    public var rateLimitRaw: JSONValue?
    /// Unknown top-level fields, kept and echoed unchanged.
    public var extra = JSONObject()

    public init(type: String) { self.type = type }

    /// Server-owned fields a client may send back (for example by re-submitting a fetched job);
    /// they are ignored, never stored as unknown fields.
    static let systemFields: Set<String> = [
        "specversion", "state", "attempt", "max_attempts", "created_at", "enqueued_at", "started_at", "completed_at",
        "cancelled_at", "discarded_at", "error", "errors", "result", "worker_id", "next_attempt_at", "retry_delay_ms",
        "parent_results", "workflow_id", "updated_at", "activated_at", "previous_state", "deduplicated",
    ]

    static let knownFields: Set<String> = [
        "id", "type", "args", "meta", "schema", "options", "priority", "scheduled_at", "delay_until", "expires_at", "retry",
        "retry_policy", "unique", "timeout", "timeout_ms", "visibility_timeout", "visibility_timeout_ms", "queue", "tags",
        "pending", "rate_limit",
    ]

    /// Validates a decoded request body. `now` resolves relative times (`+PT5S`).
    public static func parse(_ body: JSONValue, now: Int64, limits: RequestLimits = RequestLimits()) throws(OJSError) -> JobSpec {
        guard let object = body.objectValue else {
            throw OJSError(.invalidRequest, "A job must be a JSON object, got \(body.typeName).")
        }
        guard let typeValue = object["type"], !typeValue.isNull else {
            throw OJSError.invalid("Missing required field 'type'.", field: "type")
        }
        guard let type = typeValue.stringValue else { throw OJSError.invalid("Field 'type' must be a string.", field: "type") }
        guard Names.isValidJobType(type) else {
            throw OJSError.invalid(
                "Invalid job type '\(type)': it must match ^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)*$ and be at most 255 characters.",
                field: "type"
            )
        }
        var spec = JobSpec(type: type)

        guard let args = object["args"] else { throw OJSError.invalid("Missing required field 'args'.", field: "args") }
        guard case .array = args else { throw OJSError.invalid("Field 'args' must be an array, got \(args.typeName).", field: "args") }
        try limits.checkSize(of: args, field: "args", limit: limits.maxArgsBytes)
        spec.args = args

        if let idValue = object["id"] {
            guard let id = idValue.stringValue, UUIDv7.isValid(id) else {
                throw OJSError.invalid("Field 'id' must be a lowercase UUIDv7.", field: "id")
            }
            spec.id = id
        }
        spec.meta = try object.object("meta") ?? JSONObject()
        spec.schema = try object.string("schema")
        let options = try object.object("options") ?? JSONObject()
        /// An option from `options`, else the core spec's top-level spelling.
        func option(_ names: String...) -> (name: String, value: JSONValue)? {
            for name in names { if let v = options[name], !v.isNull { return ("options." + name, v) } }
            for name in names { if let v = object[name], !v.isNull { return (name, v) } }
            return nil
        }

        if let (field, v) = option("queue") {
            guard let q = v.stringValue, Names.isValidQueue(q) else {
                throw OJSError.invalid("Invalid queue name: it must match ^[a-z0-9][a-z0-9\\-\\.]*$ and be at most 128 characters.", field: field)
            }
            spec.queue = q
        }
        if let (field, v) = option("priority") {
            spec.priority = try parsePriority(v, field: field)
        }
        if let (field, v) = option("timeout_ms") {
            guard let n = v.intValue, n >= 0 else { throw OJSError.invalid("\(field) must be a non-negative integer.", field: field) }
            spec.timeoutMs = n
        } else if let (field, v) = option("timeout") {
            guard let seconds = v.doubleValue, seconds >= 0 else {
                throw OJSError.invalid("\(field) must be a non-negative number of seconds.", field: field)
            }
            spec.timeoutMs = Int64((seconds * 1000).rounded())
        }
        if let (field, v) = option("visibility_timeout_ms") {
            guard let n = v.intValue, n > 0 else { throw OJSError.invalid("\(field) must be a positive integer.", field: field) }
            spec.visibilityTimeoutMs = n
        } else if let (field, v) = option("visibility_timeout") {
            if let s = v.stringValue, let ms = ISODuration.parseMillis(s), ms > 0 {
                spec.visibilityTimeoutMs = ms
            } else if let n = v.intValue, n > 0 {
                spec.visibilityTimeoutMs = n * 1000
            } else {
                throw OJSError.invalid("\(field) must be an ISO 8601 duration.", field: field)
            }
        }
        if let (field, v) = option("scheduled_at", "delay_until") {
            spec.scheduledAt = try parseTime(v, field: field, now: now)
        }
        if let (field, v) = option("expires_at") {
            spec.expiresAt = try parseTime(v, field: field, now: now)
        }
        let retryValue = option("retry", "retry_policy")?.value
        spec.retrySent = retryValue != nil
        spec.retry = try RetryPolicy.parse(retryValue, maxAttemptsOverride: options["max_attempts"])
        if let (_, v) = option("unique") {
            spec.unique = try UniquePolicy.parse(v)
        }
        if let (field, v) = option("tags") {
            guard let list = v.arrayValue else { throw OJSError.invalid("\(field) must be an array of strings.", field: field) }
            var tags: [String] = []
            for t in list {
                guard let s = t.stringValue else { throw OJSError.invalid("\(field) must be an array of strings.", field: field) }
                tags.append(s)
            }
            spec.tags = tags
        }
        if let (field, v) = option("pending") {
            guard let b = v.boolValue else { throw OJSError.invalid("\(field) must be a boolean.", field: field) }
            spec.pending = b
        }
        if let (_, v) = option("rate_limit") {
            spec.rateLimit = try RateLimitSpec.parse(v)
            spec.rateLimitRaw = v
        }
        if let metadata = try options.object("metadata", path: "options.metadata") {
            for (k, v) in metadata { spec.meta[k] = v }
        }
        if !spec.meta.isEmpty { try limits.checkSize(of: .object(spec.meta), field: "meta", limit: limits.maxMetaBytes) }
        for (key, value) in object where !knownFields.contains(key) && !systemFields.contains(key) {
            spec.extra[key] = value
        }
        return spec
    }

    static func parsePriority(_ v: JSONValue, field: String) throws(OJSError) -> Int {
        if let s = v.stringValue {
            switch s.lowercased() {
            case "critical": return 20
            case "high": return 10
            case "normal", "default": return 0
            case "low": return -10
            default: throw OJSError.invalid("\(field) must be an integer between -100 and 100.", field: field)
            }
        }
        guard let n = v.intValue, case .int = v, (-100...100).contains(n) else {
            throw OJSError.invalid("\(field) must be an integer between -100 and 100.", field: field)
        }
        return Int(n)
    }

    /// An RFC 3339 time with a zone, or `+<ISO duration>` relative to `now`.
    public static func parseTime(_ v: JSONValue, field: String, now: Int64) throws(OJSError) -> (millis: Int64, text: String) {
        guard let s = v.stringValue else { throw OJSError.invalid("\(field) must be an RFC 3339 timestamp string.", field: field) }
        if s.hasPrefix("+") {
            guard let ms = ISODuration.parseMillis(String(s.dropFirst())) else {
                throw OJSError.invalid("\(field) must be an RFC 3339 timestamp or +<ISO 8601 duration>.", field: field)
            }
            let at = now + ms
            return (at, Timestamp.format(millis: at))
        }
        guard let ms = Timestamp.parse(s) else {
            throw OJSError.invalid("\(field) must be an RFC 3339 timestamp with a time zone, such as 2026-01-01T00:00:00Z.", field: field)
        }
        return (ms, s)
    }

    /// The immutable part of the job as stored and echoed (everything but lifecycle fields).
    public func document() -> JSONObject {
        var doc = JSONObject()
        doc["args"] = args
        doc["meta"] = .object(meta)
        if let schema { doc["schema"] = .string(schema) }
        if !tags.isEmpty { doc["tags"] = .array(tags.map { .string($0) }) }
        if let timeoutMs { doc["timeout_ms"] = .int(timeoutMs) }
        if let visibilityTimeoutMs { doc["visibility_timeout_ms"] = .int(visibilityTimeoutMs) }
        if let scheduledAt { doc["scheduled_at"] = .string(scheduledAt.text) }
        if let expiresAt { doc["expires_at"] = .string(expiresAt.text) }
        doc["retry"] = retry.json
        if let unique { doc["unique"] = unique.original }
        if let rateLimitRaw { doc["rate_limit"] = rateLimitRaw }
        for (k, v) in extra { doc[k] = v }
        return doc
    }
}
