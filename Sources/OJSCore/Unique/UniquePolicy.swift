/// `options.unique`: which dimensions make two jobs "the same", for how long, in which states,
/// and what to do on a collision. The fingerprint is a SHA-256 over canonical JSON, so the
/// database can enforce it with an indexed equality lookup inside the writer's transaction.
public struct UniquePolicy: Sendable, Equatable {
    public enum Dimension: String, Sendable, Equatable { case type, queue, args, meta }

    public enum OnConflict: String, Sendable, Equatable {
        case reject, ignore, replace
        case replaceExceptSchedule = "replace_except_schedule"
    }

    public var dimensions: [Dimension] = [.type, .queue, .args]
    public var argsKeys: [String]?
    public var metaKeys: [String]?
    public var periodMs: Int64?
    public var states: [JobState] = [.available, .active, .scheduled, .retryable, .pending]
    public var onConflict: OnConflict = .reject
    /// The object as the client sent it, echoed on the job.
    public var original: JSONValue = .object(JSONObject())

    public init() {}

    public static func parse(_ value: JSONValue) throws(OJSError) -> UniquePolicy {
        guard let object = value.objectValue else { throw OJSError.invalid("options.unique must be an object.", field: "options.unique") }
        var policy = UniquePolicy()
        policy.original = value
        let keysValue = object["keys"] ?? object["key"]
        if let keysValue, !keysValue.isNull {
            var names: [String] = []
            if let s = keysValue.stringValue {
                names = [s]
            } else if let list = keysValue.arrayValue {
                for item in list {
                    guard let s = item.stringValue else {
                        throw OJSError.invalid("options.unique.keys must be strings.", field: "options.unique.keys")
                    }
                    names.append(s)
                }
            } else {
                throw OJSError.invalid("options.unique.keys must be an array of strings.", field: "options.unique.keys")
            }
            var dims: [Dimension] = [.type]
            for name in names {
                if let d = Dimension(rawValue: name) {
                    if !dims.contains(d) { dims.append(d) }
                } else {
                    // A free-form key (the CLI's --unique-key) is a custom discriminator.
                    policy.customKey = (policy.customKey ?? "") + name
                }
            }
            policy.dimensions = dims
        }
        policy.argsKeys = try stringList(object["args_keys"], "options.unique.args_keys")
        policy.metaKeys = try stringList(object["meta_keys"], "options.unique.meta_keys")
        if let argsKeys = policy.argsKeys, !argsKeys.isEmpty, !policy.dimensions.contains(.args) { policy.dimensions.append(.args) }
        if let metaKeys = policy.metaKeys, !metaKeys.isEmpty, !policy.dimensions.contains(.meta) { policy.dimensions.append(.meta) }
        if let p = object["period"] ?? object["within"] ?? object["ttl"], !p.isNull {
            if let s = p.stringValue, let ms = ISODuration.parseMillis(s), ms > 0 {
                policy.periodMs = ms
            } else if let n = p.intValue, n > 0 {
                policy.periodMs = n * 1000
            } else {
                throw OJSError.invalid("options.unique.period must be an ISO 8601 duration such as PT1H.", field: "options.unique.period")
            }
        }
        if let s = object["states"], !s.isNull {
            guard let list = s.arrayValue, !list.isEmpty else {
                throw OJSError.invalid("options.unique.states must be a non-empty array of job states.", field: "options.unique.states")
            }
            var states: [JobState] = []
            for item in list {
                guard let name = item.stringValue, let state = JobState(rawValue: name) else {
                    throw OJSError.invalid("options.unique.states contains an unknown state: \(item.jsonText).", field: "options.unique.states")
                }
                states.append(state)
            }
            policy.states = states
        }
        if let c = object["on_conflict"], !c.isNull {
            guard let name = c.stringValue else {
                throw OJSError.invalid("options.unique.on_conflict must be a string.", field: "options.unique.on_conflict")
            }
            switch name {
            case "reject": policy.onConflict = .reject
            case "ignore", "use_existing": policy.onConflict = .ignore
            case "replace": policy.onConflict = .replace
            case "replace_except_schedule": policy.onConflict = .replaceExceptSchedule
            default:
                throw OJSError.invalid(
                    "options.unique.on_conflict must be reject, ignore, replace or replace_except_schedule.",
                    field: "options.unique.on_conflict"
                )
            }
        }
        return policy
    }

    public var customKey: String?

    private static func stringList(_ value: JSONValue?, _ field: String) throws(OJSError) -> [String]? {
        guard let value, !value.isNull else { return nil }
        guard let list = value.arrayValue else { throw OJSError.invalid("\(field) must be an array of strings.", field: field) }
        var out: [String] = []
        for item in list {
            guard let s = item.stringValue else { throw OJSError.invalid("\(field) must be an array of strings.", field: field) }
            out.append(s)
        }
        return out
    }

    /// The fingerprint of a job under this policy: SHA-256 hex of the canonical JSON of the
    /// chosen dimensions.
    public func fingerprint(type: String, queue: String, args: JSONValue, meta: JSONObject) -> String {
        var parts = JSONObject()
        parts["type"] = .string(type)
        if dimensions.contains(.queue) { parts["queue"] = .string(queue) }
        if dimensions.contains(.args) {
            if let argsKeys, !argsKeys.isEmpty {
                parts["args"] = Self.filter(args, keys: argsKeys)
            } else {
                parts["args"] = args
            }
        }
        if dimensions.contains(.meta) {
            var filtered = JSONObject()
            if let metaKeys {
                for k in metaKeys { if let v = meta[k] { filtered[k] = v } }
            } else {
                filtered = meta
            }
            parts["meta"] = .object(filtered)
        }
        if let customKey { parts["key"] = .string(customKey) }
        return Digests.sha256Hex(JSONValue.object(parts).canonicalText)
    }

    /// Keeps only the named keys of object arguments (arrays of objects are filtered element-wise).
    private static func filter(_ args: JSONValue, keys: [String]) -> JSONValue {
        switch args {
        case .object(let o):
            var out = JSONObject()
            for k in keys { if let v = o[k] { out[k] = v } }
            return .object(out)
        case .array(let items):
            return .array(items.map { filter($0, keys: keys) })
        default:
            return args
        }
    }
}
