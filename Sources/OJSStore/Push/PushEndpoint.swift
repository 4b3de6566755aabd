import OJSCore

/// A bound queue as stored: its configuration, its health, its rate-limit bucket and 429
/// back-off, and (read alongside) how many deliveries are in flight and jobs are waiting.
public struct PushEndpoint: Sendable, Equatable {
    public var config: PushEndpointConfig
    public var circuit: EndpointCircuit
    /// The saved bucket level; nil until the first delivery (a new bucket starts full).
    public var tokens: Double?
    public var tokensAt: Int64?
    /// No delivery starts before this (Unix ms) after a 429.
    public var throttledUntil: Int64?
    /// 429s in a row, for the default doubling back-off.
    public var throttleStreak: Int
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Active jobs of the queue holding a delivery (sent, or accepted awaiting a receipt).
    public var inFlight: Int
    /// Jobs of the queue waiting in `available` (at most the cap when loaded with `countingUpTo`).
    public var available: Int

    /// The rate limit's bucket at `now`, or nil when the endpoint has no rate.
    public func bucket(now: Int64) -> TokenBucket? {
        guard let rate = config.ratePerSecond else { return nil }
        var bucket = TokenBucket(ratePerSecond: rate, burst: config.burst, tokens: tokens, updatedAt: tokensAt ?? now)
        bucket.refill(now: now)
        return bucket
    }

    /// The endpoint as the admin API shows it.
    public func json() -> JSONObject {
        var o = config.json()
        o["state"] = .string(circuit.state.rawValue)
        o["state_reason"] = circuit.reason.map { .string($0) } ?? .null
        o["state_changed_at"] = .string(Timestamp.format(millis: circuit.changedAt))
        o["consecutive_failures"] = .int(Int64(circuit.consecutiveFailures))
        o["throttled_until"] = throttledUntil.map { .string(Timestamp.format(millis: $0)) } ?? .null
        o["in_flight"] = .int(Int64(inFlight))
        o["available"] = .int(Int64(available))
        o["created_at"] = .string(Timestamp.format(millis: createdAt))
        o["updated_at"] = .string(Timestamp.format(millis: updatedAt))
        return o
    }

    /// The stored row plus the two counts. `countingUpTo` stops counting waiting jobs at
    /// that many: the dispatcher only compares the count with a batch size, and counting a
    /// deep backlog in full on every pass (on the writer thread, for a claim) would cost
    /// time in proportion to the queue. The admin API counts in full.
    static func columns(countingUpTo cap: Int? = nil) -> String {
        let waiting = "j.queue = push_endpoints.queue AND j.state = 'available'"
        let available =
            cap.map { "(SELECT count(*) FROM (SELECT 1 FROM jobs j WHERE \(waiting) LIMIT \(max(1, $0))))" }
            ?? "(SELECT count(*) FROM jobs j WHERE \(waiting))"
        return """
            queue, url, secret, concurrency, rate_per_second, burst, timeout_ms, receipt_timeout_ms, failure_threshold, cooldown_ms, \
            state, state_reason, state_changed_at, consecutive_failures, opened_at, tokens, tokens_at, throttled_until, throttle_streak, \
            created_at, updated_at, \
            (SELECT count(*) FROM jobs j WHERE j.queue = push_endpoints.queue AND j.state = 'active' AND j.delivery_id IS NOT NULL), \
            \(available)
            """
    }

    static func row(_ r: Row) -> PushEndpoint {
        var config = PushEndpointConfig(queue: r.text(0), url: r.text(1), secret: r.text(2))
        config.concurrency = Int(r.int(3))
        config.ratePerSecond = r.optDouble(4)
        config.burst = Int(r.int(5))
        config.timeoutMs = r.int(6)
        config.receiptTimeoutMs = r.int(7)
        config.failureThreshold = Int(r.int(8))
        config.cooldownMs = r.int(9)
        let circuit = EndpointCircuit(
            state: EndpointCircuit.State(rawValue: r.text(10)) ?? .active,
            reason: r.optText(11),
            consecutiveFailures: Int(r.int(13)),
            openedAt: r.optInt(14),
            changedAt: r.int(12),
            failureThreshold: config.failureThreshold,
            cooldownMs: config.cooldownMs
        )
        return PushEndpoint(
            config: config,
            circuit: circuit,
            tokens: r.optDouble(15),
            tokensAt: r.optInt(16),
            throttledUntil: r.optInt(17),
            throttleStreak: Int(r.int(18)),
            createdAt: r.int(19),
            updatedAt: r.int(20),
            inFlight: Int(r.int(21)),
            available: Int(r.int(22))
        )
    }

    static func load(_ queue: String, db: Connection, countingUpTo cap: Int? = nil) throws -> PushEndpoint? {
        try db.first("SELECT \(columns(countingUpTo: cap)) FROM push_endpoints WHERE queue = ?", [.text(queue)], row)
    }

    /// Saves the health, bucket and back-off (the configuration changes only through `bind`).
    func saveState(db: Connection, now: Int64) throws {
        try db.run(
            """
            UPDATE push_endpoints SET state = ?, state_reason = ?, state_changed_at = ?, consecutive_failures = ?, opened_at = ?,
              tokens = ?, tokens_at = ?, throttled_until = ?, throttle_streak = ?, updated_at = ?
            WHERE queue = ?
            """,
            [
                .text(circuit.state.rawValue), SQLValue(circuit.reason), .int(circuit.changedAt), .int(Int64(circuit.consecutiveFailures)),
                SQLValue(circuit.openedAt), tokens.map { .double($0) } ?? .null, SQLValue(tokensAt), SQLValue(throttledUntil),
                .int(Int64(throttleStreak)), .int(now), .text(config.queue),
            ]
        )
    }
}
