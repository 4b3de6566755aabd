import OJSCore

/// One delivery in the receipts log.
public struct PushDeliveryRecord: Sendable, Equatable {
    public var id: String
    public var jobId: String
    public var queue: String
    public var attempt: Int
    public var startedAt: Int64
    /// When the function's HTTP answer (or its timeout) came back.
    public var answeredAt: Int64?
    /// When the delivery stopped being able to settle its job.
    public var settledAt: Int64?
    /// nil while in flight; then `completed`, `failed`, `accepted`, `throttled`, `disabled`,
    /// `rejected`, `timeout`, `error`, or `lapsed` (no receipt before the job was reclaimed).
    public var outcome: String?
    public var httpStatus: Int?
    /// The receipt's result or error, as JSON text.
    public var detail: String?
}

/// Binding queues to function URLs (`docs/serverless.md`).
extension Store {
    /// Binds a queue (or rebinds it with a new configuration). An operator's rebinding
    /// is also how a disabled or open endpoint is re-enabled, so the health starts over
    /// when `resetState`; a configuration file applied at start-up keeps it, so a restart
    /// does not quietly re-enable an endpoint that refused us.
    @discardableResult
    public func bindPushEndpoint(_ config: PushEndpointConfig, resetState: Bool = true) async throws -> PushEndpoint {
        let sealed = try sealer.seal(config.secret, context: Self.secretContext(queue: config.queue))
        return try await write { ctx in
            let c = config
            let values: [SQLValue] = [
                .text(c.queue), .text(c.url), .text(sealed), .int(Int64(c.concurrency)), c.ratePerSecond.map { .double($0) } ?? .null,
                .int(Int64(c.burst)), .int(c.timeoutMs), .int(c.receiptTimeoutMs), .int(Int64(c.failureThreshold)), .int(c.cooldownMs),
                .int(ctx.now),
            ]
            let reset =
                resetState
                ? ", state = 'active', state_reason = NULL, state_changed_at = ?11, consecutive_failures = 0, opened_at = NULL, "
                    + "throttled_until = NULL, throttle_streak = 0"
                : ""
            try ctx.db.run(
                """
                INSERT INTO push_endpoints (queue, url, secret, concurrency, rate_per_second, burst, timeout_ms, receipt_timeout_ms,
                  failure_threshold, cooldown_ms, state, state_changed_at, created_at, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'active', ?11, ?11, ?11)
                ON CONFLICT (queue) DO UPDATE SET url = ?2, secret = ?3, concurrency = ?4, rate_per_second = ?5, burst = ?6,
                  timeout_ms = ?7, receipt_timeout_ms = ?8, failure_threshold = ?9, cooldown_ms = ?10, tokens = NULL, tokens_at = NULL,
                  updated_at = ?11\(reset)
                """,
                values
            )
            guard let endpoint = try PushEndpoint.load(c.queue, db: ctx.db) else { throw OJSError.notFound("push endpoint", c.queue) }
            self.bindingsChanged(ctx)
            return endpoint
        }
    }

    /// What a sealed secret is bound to: its table and queue, so it opens on no other row.
    static func secretContext(queue: String) -> String { "push_endpoints.secret:" + queue }

    /// The signing secret of a binding as loaded (sealed in the database). Throws when this
    /// node lacks the key that sealed it (a replica, or a primary started with another key).
    public func openSecret(_ config: PushEndpointConfig) throws(SecretSealerError) -> String {
        try sealer.open(config.secret, context: Self.secretContext(queue: config.queue))
    }

    /// What `resealPushSecrets` did: secrets rewritten under the current key, and the queues
    /// whose secret this node cannot open (sealed under a key it lacks, or damaged).
    public struct ResealReport: Sendable, Equatable {
        public var resealed = 0
        public var unopenable: [String] = []
    }

    /// Seals every secret stored in plaintext (a database from before sealing) and reseals
    /// those sealed under a previous key, in one transaction. Run at start-up, so a key
    /// rotation completes on the first start with the new key. A secret this node cannot open
    /// is left as it is and reported: the server still starts (so its endpoint can be bound
    /// again), and that endpoint is disabled at its next delivery.
    @discardableResult
    public func resealPushSecrets() async throws -> ResealReport {
        let sealer = self.sealer
        return try await write { ctx in
            var rows: [(String, String)] = []
            try ctx.db.query("SELECT queue, secret FROM push_endpoints ORDER BY queue") { rows.append(($0.text(0), $0.text(1))) }
            var report = ResealReport()
            for (queue, stored) in rows where sealer.needsReseal(stored) {
                let context = Self.secretContext(queue: queue)
                guard let plaintext = try? sealer.open(stored, context: context) else {
                    report.unopenable.append(queue)
                    continue
                }
                _ = try ctx.db.run(
                    "UPDATE push_endpoints SET secret = ? WHERE queue = ?",
                    [.text(try sealer.seal(plaintext, context: context)), .text(queue)]
                )
                report.resealed += 1
            }
            return report
        }
    }

    func bindingsChanged(_ ctx: WriteContext) {
        let bindings = pushBindings
        ctx.onCommit { bindings.publish(bindings.value + 1) }
    }

    /// Removes a binding. Deliveries in flight still settle their jobs; no new ones start.
    public func unbindPushEndpoint(queue: String) async throws -> PushEndpoint {
        try await write { ctx in
            guard let endpoint = try PushEndpoint.load(queue, db: ctx.db) else { throw OJSError.notFound("push endpoint", queue) }
            try ctx.db.run("DELETE FROM push_endpoints WHERE queue = ?", [.text(queue)])
            self.bindingsChanged(ctx)
            return endpoint
        }
    }

    public func pushEndpoint(queue: String) async throws -> PushEndpoint? {
        try await read { db in try PushEndpoint.load(queue, db: db) }
    }

    /// Every binding. `countingUpTo` caps each endpoint's `available` count (the dispatcher
    /// needs only whether jobs wait; the admin API shows the full count).
    public func pushEndpoints(countingUpTo cap: Int? = nil) async throws -> [PushEndpoint] {
        try await read { db in
            var out: [PushEndpoint] = []
            try db.query("SELECT \(PushEndpoint.columns(countingUpTo: cap)) FROM push_endpoints ORDER BY queue") { out.append(PushEndpoint.row($0)) }
            return out
        }
    }

    /// The newest deliveries of a queue (optionally of one job), newest first.
    public func pushDeliveries(queue: String, jobId: String? = nil, limit: Int) async throws -> [PushDeliveryRecord] {
        try await read { db in
            var out: [PushDeliveryRecord] = []
            try db.query(
                """
                SELECT id, job_id, queue, attempt, started_at, answered_at, settled_at, outcome, http_status, detail FROM push_deliveries
                WHERE queue = ?1 AND (?2 IS NULL OR job_id = ?2) ORDER BY started_at DESC, rowid DESC LIMIT ?3
                """,
                [.text(queue), SQLValue(jobId), .int(Int64(limit))]
            ) { r in
                out.append(
                    PushDeliveryRecord(
                        id: r.text(0),
                        jobId: r.text(1),
                        queue: r.text(2),
                        attempt: Int(r.int(3)),
                        startedAt: r.int(4),
                        answeredAt: r.optInt(5),
                        settledAt: r.optInt(6),
                        outcome: r.optText(7),
                        httpStatus: r.optInt(8).map(Int.init),
                        detail: r.optText(9)
                    )
                )
            }
            return out
        }
    }

    /// Drops settled deliveries older than the event retention, so the log stays bounded. It
    /// deletes `purgeBatchSize` rows per writer transaction, other requests committing in
    /// between, until none is left; returns how many went.
    @discardableResult
    public func purgePushDeliveries() async throws -> Int {
        let retention = configuration.eventRetentionMs
        let batch = Int64(max(1, configuration.purgeBatchSize))
        var total = 0
        while true {
            let deleted = try await write { ctx in
                try ctx.db.run(
                    """
                    DELETE FROM push_deliveries WHERE rowid IN (
                      SELECT rowid FROM push_deliveries WHERE settled_at IS NOT NULL AND settled_at < ? ORDER BY settled_at LIMIT ?)
                    """,
                    [.int(ctx.now - retention), .int(batch)]
                )
            }
            total += deleted
            if deleted < batch { return total }
        }
    }
}
