import Foundation

/// A job's retry policy (OJS retry spec): how many attempts, how long to wait between them,
/// which errors are final, and what happens when attempts run out.
public struct RetryPolicy: Sendable, Equatable {
    public enum Strategy: String, Sendable, Equatable {
        case exponential, linear, constant, none, polynomial
    }

    public enum Exhaustion: String, Sendable, Equatable {
        case discard
        case deadLetter = "dead_letter"
    }

    public var maxAttempts: Int = 3
    public var initialIntervalMs: Int64 = 1000
    public var backoffCoefficient: Double = 2.0
    public var maxIntervalMs: Int64 = 300_000
    public var jitter: Bool = true
    public var nonRetryableErrors: [String] = []
    public var onExhaustion: Exhaustion = .discard
    public var strategy: Strategy = .exponential

    public init() {}

    /// Reads a (partial) policy object; missing fields keep their defaults. Semantic errors are
    /// `422 validation_error` naming the field, as the retry spec's tests expect.
    public static func parse(_ value: JSONValue?, maxAttemptsOverride: JSONValue? = nil) throws(OJSError) -> RetryPolicy {
        var policy = RetryPolicy()
        func fail(_ field: String, _ why: String) -> OJSError {
            OJSError(.validationError, "Invalid retry policy: \(field) \(why).", details: ["field": .string(field)])
        }
        if let value, !value.isNull {
            guard let object = value.objectValue else { throw fail("retry", "must be an object") }
            if let v = object["max_attempts"], !v.isNull {
                guard let n = v.intValue else { throw fail("max_attempts", "must be an integer") }
                guard n >= 0 else { throw fail("max_attempts", "must be >= 0") }
                guard n <= 1_000_000 else { throw fail("max_attempts", "must be <= 1000000") }
                policy.maxAttempts = Int(n)
            }
            if let ms = try duration(object, "initial_interval", fail) {
                guard ms > 0 else { throw fail("initial_interval", "must be a positive duration") }
                policy.initialIntervalMs = ms
            }
            if let v = object["backoff_coefficient"], !v.isNull {
                guard let d = v.doubleValue else { throw fail("backoff_coefficient", "must be a number") }
                guard d >= 1.0, d <= 1000 else { throw fail("backoff_coefficient", "must be between 1.0 and 1000") }
                policy.backoffCoefficient = d
            }
            if let ms = try duration(object, "max_interval", fail) {
                guard ms > 0 else { throw fail("max_interval", "must be a positive duration") }
                policy.maxIntervalMs = ms
            }
            if let v = object["jitter"], !v.isNull {
                guard let b = v.boolValue else { throw fail("jitter", "must be a boolean") }
                policy.jitter = b
            }
            if let v = object["non_retryable_errors"], !v.isNull {
                guard let list = v.arrayValue else { throw fail("non_retryable_errors", "must be an array of strings") }
                var names: [String] = []
                for item in list {
                    guard let s = item.stringValue else { throw fail("non_retryable_errors", "must be an array of strings") }
                    names.append(s)
                }
                policy.nonRetryableErrors = names
            }
            if let v = object["on_exhaustion"], !v.isNull {
                guard let s = v.stringValue, let e = Exhaustion(rawValue: s) else {
                    throw fail("on_exhaustion", "must be \"discard\" or \"dead_letter\"")
                }
                policy.onExhaustion = e
            }
            for key in ["backoff_strategy", "backoff_type"] {
                if let v = object[key], !v.isNull {
                    guard let s = v.stringValue, let strategy = Strategy(rawValue: s.lowercased()) else {
                        throw fail(key, "must be one of exponential, linear, constant, polynomial, none")
                    }
                    policy.strategy = strategy
                }
            }
            if policy.maxIntervalMs < policy.initialIntervalMs, object["max_interval"] != nil || object["max_interval_ms"] != nil {
                throw fail("max_interval", "must not be shorter than initial_interval")
            }
            policy.maxIntervalMs = max(policy.maxIntervalMs, policy.initialIntervalMs)
        }
        if let v = maxAttemptsOverride, !v.isNull {
            guard let n = v.intValue, n >= 0 else { throw fail("max_attempts", "must be an integer >= 0") }
            policy.maxAttempts = Int(n)
        }
        return policy
    }

    private static func duration(
        _ object: JSONObject,
        _ field: String,
        _ fail: (String, String) -> OJSError
    ) throws(OJSError) -> Int64? {
        if let v = object[field], !v.isNull {
            if let s = v.stringValue {
                guard let ms = ISODuration.parseMillis(s) else { throw fail(field, "must be an ISO 8601 duration such as PT1S") }
                return ms
            }
            guard let ms = v.intValue else { throw fail(field, "must be an ISO 8601 duration such as PT1S") }
            return ms
        }
        if let v = object[field + "_ms"], !v.isNull {
            guard let ms = v.intValue else { throw fail(field + "_ms", "must be an integer") }
            return ms
        }
        return nil
    }

    /// The effective policy as echoed on the job.
    public var json: JSONValue {
        .object(
            JSONObject([
                ("max_attempts", .int(Int64(maxAttempts))),
                ("initial_interval", .string(ISODuration.format(millis: initialIntervalMs))),
                ("backoff_coefficient", .double(backoffCoefficient)),
                ("max_interval", .string(ISODuration.format(millis: maxIntervalMs))),
                ("jitter", .bool(jitter)),
                ("non_retryable_errors", .array(nonRetryableErrors.map { .string($0) })),
                ("on_exhaustion", .string(onExhaustion.rawValue)),
                ("backoff_strategy", .string(strategy.rawValue)),
            ])
        )
    }

    /// The wait before the next attempt after attempt `attempt` (1-based) failed.
    /// `unit` is a uniform random number in [0, 1), passed in to keep this function pure.
    public func delayMillis(afterAttempt attempt: Int, unit: Double) -> Int64 {
        let n = Double(max(1, attempt))
        let initial = Double(initialIntervalMs)
        let raw: Double
        switch strategy {
        case .exponential: raw = initial * pow(backoffCoefficient, n - 1)
        case .linear: raw = initial * n
        case .constant, .none: raw = initial
        case .polynomial: raw = initial * pow(n, backoffCoefficient)
        }
        var delay = min(raw.isFinite ? raw : Double(maxIntervalMs), Double(maxIntervalMs))
        if jitter {
            delay = min(delay * (0.5 + unit), Double(maxIntervalMs))
        }
        return Int64(delay.rounded())
    }

    /// Whether an error with these names is listed as final. An entry ending in `*` matches
    /// by prefix (`auth.*` matches `auth.token_expired`).
    public func isNonRetryable(names: [String]) -> Bool {
        for pattern in nonRetryableErrors {
            for name in names where !name.isEmpty {
                if pattern.hasSuffix("*") {
                    if name.hasPrefix(String(pattern.dropLast())) { return true }
                } else if pattern == name {
                    return true
                }
            }
        }
        return false
    }
}
