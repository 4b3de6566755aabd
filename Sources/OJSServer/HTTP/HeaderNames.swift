import HTTPTypes

/// Header names OJS and ojs-edge use.
extension HTTPField.Name {
    static let ojsVersion = HTTPField.Name("OJS-Version")!
    static let requestId = HTTPField.Name("X-Request-Id")!
    static let retryAfter = HTTPField.Name("Retry-After")!
    static let rateLimitLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("X-RateLimit-Reset")!
    static let queuePressure = HTTPField.Name("X-OJS-Queue-Pressure")!
    static let queueDepth = HTTPField.Name("X-OJS-Queue-Depth")!
    static let queueBound = HTTPField.Name("X-OJS-Queue-Bound")!
    static let bookmark = HTTPField.Name("OJS-Bookmark")!
    static let servedBy = HTTPField.Name("OJS-Served-By")!
    static let replicaLag = HTTPField.Name("OJS-Replica-Lag-Ms")!
    static let maxStaleness = HTTPField.Name("OJS-Max-Staleness-Ms")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// Set by a replica on every request it forwards to the primary: `replica/<region>`.
    static let forwardedBy = HTTPField.Name("OJS-Forwarded-By")!
    /// Set on an answer replayed from an earlier request with the same Idempotency-Key.
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    static let traceparent = HTTPField.Name("traceparent")!
    static let tracestate = HTTPField.Name("tracestate")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    /// Sent by a browser's `EventSource` when it reconnects: the last event id it saw.
    static let lastEventId = HTTPField.Name("Last-Event-ID")!
    /// Tells nginx not to buffer a response (an event stream).
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
}

enum MediaTypes {
    static let ojs = "application/openjobspec+json"
    static let eventStream = "text/event-stream"
}
