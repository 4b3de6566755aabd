/// An execution failure reported by a worker (NACK) or detected by the server (execution or
/// visibility timeout), and what the retry policy makes of it.
public struct JobFailure: Sendable, Equatable {
    public var code: String
    public var type: String?
    public var message: String
    public var retryable: Bool?
    public var details: JSONObject?
    public var backtrace: JSONValue?

    public init(code: String, type: String? = nil, message: String, retryable: Bool? = nil, details: JSONObject? = nil) {
        self.code = code
        self.type = type
        self.message = message
        self.retryable = retryable
        self.details = details
    }

    /// The error's type as recorded: the sent `type`, else `details.error_class`, else `code`.
    public var effectiveType: String {
        if let type, !type.isEmpty { return type }
        if let cls = details?["error_class"]?.stringValue, !cls.isEmpty { return cls }
        return code
    }

    /// Names matched against `non_retryable_errors`.
    public var matchNames: [String] {
        var names = [effectiveType, code]
        if let cls = details?["error_class"]?.stringValue { names.append(cls) }
        return names
    }

    /// The entry stored in `error` and appended to `errors[]`.
    public func record(attempt: Int, occurredAt: Int64) -> JSONValue {
        var o = JSONObject()
        o["code"] = .string(code)
        o["type"] = .string(effectiveType)
        o["message"] = .string(message)
        if let retryable { o["retryable"] = .bool(retryable) }
        if let details, !details.isEmpty { o["details"] = .object(details) }
        if let backtrace { o["backtrace"] = backtrace }
        o["attempt"] = .int(Int64(attempt))
        o["occurred_at"] = .string(Timestamp.format(millis: occurredAt))
        return .object(o)
    }

    public static func executionTimeout(timeoutMs: Int64) -> JobFailure {
        JobFailure(code: "timeout", type: "timeout", message: "Job execution exceeded timeout of \(timeoutMs) ms", retryable: true)
    }

    public static func visibilityTimeout(timeoutMs: Int64) -> JobFailure {
        JobFailure(
            code: "visibility_timeout",
            type: "visibility_timeout",
            message: "Reservation expired after \(timeoutMs) ms without an ack or heartbeat",
            retryable: true
        )
    }
}

/// Where a failed job goes next.
public enum FailureOutcome: Sendable, Equatable {
    /// Straight back to `available` (NACK with `requeue: true`).
    case requeue
    /// `retryable` until `nextAttemptAt`.
    case retry(delayMs: Int64, nextAttemptAt: Int64)
    /// `discarded`; also listed in the dead-letter queue when `deadLetter`.
    case discard(deadLetter: Bool)

    /// Applies the retry policy to a failure of attempt `attempt`. `unit` is a uniform random
    /// number in [0, 1) for jitter.
    public static func decide(
        policy: RetryPolicy,
        attempt: Int,
        failure: JobFailure,
        requeue: Bool,
        now: Int64,
        unit: Double
    ) -> FailureOutcome {
        if requeue { return .requeue }
        let deadLetter = policy.onExhaustion == .deadLetter
        if failure.retryable == false || policy.isNonRetryable(names: failure.matchNames) {
            return .discard(deadLetter: deadLetter)
        }
        if attempt >= policy.maxAttempts { return .discard(deadLetter: deadLetter) }
        let delay = policy.delayMillis(afterAttempt: attempt, unit: unit)
        return .retry(delayMs: delay, nextAttemptAt: now + delay)
    }
}
