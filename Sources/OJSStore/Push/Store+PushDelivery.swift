import OJSCore

/// A job claimed for a push delivery, with the delivery id that alone may settle it.
public struct PushDelivery: Sendable {
    public var job: JobSnapshot
    public var deliveryId: String
}

/// What one claim pass for an endpoint produced.
public struct PushClaim: Sendable {
    public var endpoint: PushEndpoint?
    public var deliveries: [PushDelivery] = []
    /// When a time-based limit (cool-down, 429 back-off, token refill) lifts, in ms from
    /// now; nil when only a commit (a new job, a finished delivery) can change anything.
    public var retryInMs: Int64?
    /// Set when the claim moved the circuit (open → half_open).
    public var stateChange: (from: EndpointCircuit.State, to: EndpointCircuit.State)?
}

/// What settling a delivery did.
public struct PushSettlement: Sendable {
    /// The job after the change; nil when the delivery could no longer settle it.
    public var job: JobSnapshot?
    public var endpoint: PushEndpoint?
    public var stateChange: (from: EndpointCircuit.State, to: EndpointCircuit.State)?
}

/// Push delivery's transitions, each one writer transaction: claiming jobs for an endpoint
/// within its limits, and settling a delivery from the function's answer or late receipt.
/// The id check makes completion effective exactly once: only the job's current delivery,
/// while the job is active, can settle it.
extension Store {
    /// Claims up to `maxBatch` due jobs of `queue` for delivery, within the endpoint's
    /// circuit, concurrency, rate and 429 back-off. The claim is the fetch claim (job set
    /// `active` first, reserved for the endpoint's receipt timeout, so a lost delivery is
    /// reclaimed); each job then gets a new delivery id.
    public func claimPushDeliveries(queue: String, workerId: String, maxBatch: Int) async throws -> PushClaim {
        let config = configuration
        return try await write { ctx in
            // Counting past `maxBatch` waiting jobs could not change any decision below.
            guard var endpoint = try PushEndpoint.load(queue, db: ctx.db, countingUpTo: maxBatch + 1) else { return PushClaim() }
            let now = ctx.now
            let before = endpoint.circuit
            var claim = PushClaim()
            var limit = min(maxBatch, endpoint.config.concurrency - endpoint.inFlight)
            func retry(in ms: Int64) { claim.retryInMs = min(claim.retryInMs ?? .max, max(1, ms)) }
            switch endpoint.circuit.admit(now: now) {
            case .open: break
            case .probe: limit = min(limit, endpoint.inFlight == 0 ? 1 : 0)
            case .wait(let until):
                limit = 0
                retry(in: until - now)
            case .stopped: limit = 0
            }
            if let until = endpoint.throttledUntil, until > now {
                limit = 0
                retry(in: until - now)
            }
            var bucket = endpoint.bucket(now: now)
            if let b = bucket, limit > 0 {
                limit = min(limit, b.available(now: now))
                if limit == 0, endpoint.available > 0 { retry(in: b.millisUntilNextToken(now: now)) }
            }
            if limit > 0, endpoint.available > 0 {
                // No worker id in the request: registering the dispatcher as a worker would write
                // on every pass, and every commit wakes the dispatcher again.
                let jobs = try Self.claim(
                    FetchRequest(queues: [queue], count: limit, visibilityTimeoutMs: endpoint.config.receiptTimeoutMs),
                    ctx: ctx,
                    config: config
                )
                for var job in jobs {
                    let id = "dlv_" + ctx.newId()
                    // An earlier delivery still open lost its chance when the job was reclaimed.
                    try ctx.db.run(
                        "UPDATE push_deliveries SET outcome = coalesce(outcome, 'lapsed'), settled_at = ? WHERE job_id = ? AND settled_at IS NULL",
                        [.int(now), .text(job.id)]
                    )
                    try ctx.db.run("UPDATE jobs SET delivery_id = ?, worker_id = ? WHERE id = ?", [.text(id), .text(workerId), .text(job.id)])
                    job.workerId = workerId
                    try ctx.db.run(
                        "INSERT INTO push_deliveries (id, job_id, queue, attempt, started_at) VALUES (?, ?, ?, ?, ?)",
                        [.text(id), .text(job.id), .text(queue), .int(Int64(job.attempt)), .int(now)]
                    )
                    claim.deliveries.append(PushDelivery(job: job, deliveryId: id))
                }
                endpoint.inFlight += jobs.count
                if !jobs.isEmpty, var b = bucket {
                    b.take(jobs.count, now: now)
                    bucket = b
                    endpoint.tokens = b.tokens
                    endpoint.tokensAt = b.updatedAt
                    if b.tokens < 1, endpoint.available > jobs.count { retry(in: b.millisUntilNextToken(now: now)) }
                }
            }
            if endpoint.circuit != before || !claim.deliveries.isEmpty {
                try endpoint.saveState(db: ctx.db, now: now)
            }
            if endpoint.circuit.state != before.state { claim.stateChange = (before.state, endpoint.circuit.state) }
            claim.endpoint = endpoint
            return claim
        }
    }

    /// Settles a delivery from the function's HTTP answer. A delivery that is no longer the
    /// job's current one (reclaimed, cancelled, already settled by a late receipt) changes
    /// nothing but its own log entry — a second completion can never happen.
    public func settlePushDelivery(jobId: String, deliveryId: String, outcome: DeliveryOutcome, httpStatus: Int?) async throws -> PushSettlement {
        let config = configuration
        return try await write { ctx in
            let live = try Self.liveDelivery(jobId: jobId, deliveryId: deliveryId, db: ctx.db)
            return try Self.settle(live, deliveryId: deliveryId, outcome: outcome, httpStatus: httpStatus, ctx: ctx, config: config)
        }
    }

    /// A late receipt (`POST /ojs/v1/jobs/{id}/receipt`): accepted only while the delivery
    /// it names is the job's current one and the job is still active; otherwise 404 (no such
    /// delivery of this job) or 409 (it can no longer settle the job, and why).
    public func receivePushReceipt(jobId: String, deliveryId: String, outcome: DeliveryOutcome) async throws -> PushSettlement {
        let config = configuration
        return try await write { ctx in
            guard let job = try ctx.db.job(jobId) else { throw OJSError.notFound("job", jobId) }
            guard
                let logged = try ctx.db.first(
                    "SELECT outcome FROM push_deliveries WHERE id = ? AND job_id = ?",
                    [.text(deliveryId), .text(jobId)],
                    { $0.optText(0) }
                )
            else { throw OJSError.notFound("delivery", deliveryId) }
            guard let live = try Self.liveDelivery(jobId: jobId, deliveryId: deliveryId, db: ctx.db) else {
                let why: String
                if job.state == .active {
                    why = "a newer delivery of the job superseded it"
                } else if let logged, logged != "accepted" {
                    why = "it already ended (\(logged)) and the job is \(job.state.rawValue)"
                } else {
                    why = "the job is \(job.state.rawValue), no longer active (the delivery lapsed)"
                }
                throw OJSError.conflict(
                    "Delivery '\(deliveryId)' can no longer settle job '\(jobId)': \(why).",
                    currentState: job.state.rawValue
                )
            }
            return try Self.settle(live, deliveryId: deliveryId, outcome: outcome, httpStatus: nil, ctx: ctx, config: config)
        }
    }

    /// The job if `deliveryId` is its current delivery and it is active.
    static func liveDelivery(jobId: String, deliveryId: String, db: Connection) throws -> JobSnapshot? {
        try db.first(
            "SELECT \(JobColumns.list) FROM jobs WHERE id = ? AND state = 'active' AND delivery_id = ?",
            [.text(jobId), .text(deliveryId)],
            JobColumns.snapshot
        )
    }

    static func settle(
        _ live: JobSnapshot?,
        deliveryId: String,
        outcome: DeliveryOutcome,
        httpStatus: Int?,
        ctx: WriteContext,
        config: StoreConfiguration
    ) throws -> PushSettlement {
        var settlement = PushSettlement()
        if let job = live {
            settlement.job = try apply(outcome, to: job, ctx: ctx, config: config)
        }
        let waiting = live != nil && outcome == .accepted
        try ctx.db.run(
            """
            UPDATE push_deliveries SET answered_at = coalesce(answered_at, ?1), http_status = coalesce(?2, http_status),
              outcome = CASE WHEN settled_at IS NULL THEN ?3 ELSE outcome END,
              detail = CASE WHEN settled_at IS NULL THEN ?4 ELSE detail END,
              settled_at = CASE WHEN settled_at IS NULL AND NOT ?5 THEN ?1 ELSE settled_at END
            WHERE id = ?6
            """,
            [
                .int(ctx.now), SQLValue(httpStatus), .text(live == nil ? "superseded" : outcome.label), SQLValue(detail(outcome)),
                SQLValue(waiting), .text(deliveryId),
            ]
        )
        guard let queue = live?.queue, var endpoint = try PushEndpoint.load(queue, db: ctx.db, countingUpTo: 1) else { return settlement }
        let before = endpoint.circuit.state
        endpoint.circuit.record(outcome.effect, now: ctx.now)
        if case .throttled(let retryAfter) = outcome {
            endpoint.throttledUntil = ctx.now + (retryAfter ?? RetryAfter.defaultDelayMs(streak: endpoint.throttleStreak))
            endpoint.throttleStreak += 1
        } else {
            endpoint.throttleStreak = 0
        }
        try endpoint.saveState(db: ctx.db, now: ctx.now)
        if endpoint.circuit.state != before { settlement.stateChange = (before, endpoint.circuit.state) }
        settlement.endpoint = endpoint
        return settlement
    }

    /// Moves the job as the outcome says. 429 and 401/403/404 are about the endpoint, not
    /// the job: it goes back to `available` at its old place with the attempt not counted.
    static func apply(_ outcome: DeliveryOutcome, to job: JobSnapshot, ctx: WriteContext, config: StoreConfiguration) throws -> JobSnapshot {
        let settled: JobSnapshot
        switch outcome {
        case .accepted:
            return job
        case .completed(let result):
            settled = try complete(job, result: result, ctx: ctx)
        case .failed(let failure), .rejected(let failure), .error(let failure):
            settled = try fail(job, failure: failure, requeue: false, ctx: ctx, config: config).job
        case .throttled, .disabled:
            settled = try ctx.db.updatedJob(
                """
                UPDATE jobs SET state = 'available', attempt = max(attempt - 1, 0), worker_id = NULL, started_at = NULL,
                  visible_until = NULL, timeout_at = NULL
                WHERE id = ? RETURNING \(JobColumns.list)
                """,
                [.text(job.id)]
            )
        }
        try ctx.db.run("UPDATE jobs SET delivery_id = NULL WHERE id = ?", [.text(job.id)])
        return settled
    }

    static func detail(_ outcome: DeliveryOutcome) -> String? {
        switch outcome {
        case .accepted: return nil
        case .completed(let result): return result?.jsonText
        case .failed(let f), .rejected(let f), .error(let f):
            var o: JSONObject = ["code": .string(f.code), "type": .string(f.effectiveType), "message": .string(f.message)]
            if let retryable = f.retryable { o["retryable"] = .bool(retryable) }
            return JSONValue.object(o).jsonText
        case .throttled(let ms): return ms.map { JSONValue.object(["retry_after_ms": .int($0)]).jsonText }
        case .disabled(let reason): return JSONValue.object(["reason": .string(reason)]).jsonText
        }
    }
}
