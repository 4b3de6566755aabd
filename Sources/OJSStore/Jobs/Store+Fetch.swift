import OJSCore

extension Store {
    /// Claims up to `count` jobs for a worker, walking the queues in the order given.
    /// Runs in the writer, so no two fetches can claim the same job; each claim is one
    /// `UPDATE … WHERE state = 'available' … RETURNING`.
    public func fetch(_ request: FetchRequest) async throws -> [JobSnapshot] {
        let config = configuration
        return try await write { ctx in try Self.claim(request, ctx: ctx, config: config) }
    }

    static func claim(_ request: FetchRequest, ctx: WriteContext, config: StoreConfiguration) throws -> [JobSnapshot] {
        try SchedulerPass.beforeFetch(ctx, config: config)
        if let workerId = request.workerId {
            let state = try Workers.touch(workerId, ctx: ctx)
            if Workers.isDraining(state) { return [] }
        }
        let keyed = try RateLimits.anyKeyed(db: ctx.db)
        var claimed: [JobSnapshot] = []
        for queue in request.queues where claimed.count < request.count {
            guard let row = try QueueRow.load(queue, db: ctx.db), !row.paused else { continue }
            var budget = request.count - claimed.count
            var windowOpen = false
            if let perSecond = row.rateMaxPerSecond {
                windowOpen = row.rateWindowStart.map { ctx.now < $0 + 1000 } ?? false
                let used = windowOpen ? row.rateWindowCount : 0
                budget = min(budget, Int(max(0, perSecond - used)))
            }
            guard budget > 0 else { continue }
            let jobs =
                keyed
                ? try claimRespectingPartitions(queue: queue, limit: budget, request: request, ctx: ctx, config: config)
                : try claimBatch(queue: queue, limit: budget, request: request, ctx: ctx, config: config)
            if row.rateMaxPerSecond != nil, !jobs.isEmpty {
                try ctx.db.run(
                    windowOpen
                        ? "UPDATE queues SET rate_window_count = rate_window_count + ? WHERE name = ?"
                        : "UPDATE queues SET rate_window_count = ?, rate_window_start = \(ctx.now) WHERE name = ?",
                    [.int(Int64(jobs.count)), .text(queue)]
                )
            }
            claimed += jobs
        }
        for job in claimed {
            try EventLog.record(
                ctx,
                type: "job.started",
                job: job,
                data: [
                    ("job_type", .string(job.type)), ("queue", .string(job.queue)), ("worker_id", job.workerId.map { .string($0) } ?? .null),
                    ("attempt", .int(Int64(job.attempt))),
                ]
            )
        }
        return claimed
    }

    /// Every claim clears `delivery_id`: a push claim then sets its own, and a receipt for an
    /// earlier delivery can never settle a later claim of the same job.
    static let claimSet = """
        state = 'active', attempt = attempt + 1, started_at = ?1, worker_id = ?2, next_attempt_at = NULL, delivery_id = NULL,
          visible_until = ?1 + coalesce(?3, visibility_timeout_ms, ?4),
          timeout_at = CASE WHEN coalesce(timeout_ms, ?5) > 0 THEN ?1 + coalesce(timeout_ms, ?5) END
        """

    /// The common case: one statement claims the first `limit` jobs of the queue in
    /// priority-then-FIFO order, through the `jobs_claim` index.
    static func claimBatch(
        queue: String,
        limit: Int,
        request: FetchRequest,
        ctx: WriteContext,
        config: StoreConfiguration
    ) throws -> [JobSnapshot] {
        var rows: [(JobSnapshot, Int64)] = []
        try ctx.db.query(
            """
            UPDATE jobs SET \(claimSet)
            WHERE id IN (
              SELECT id FROM jobs WHERE queue = ?6 AND state = 'available' AND (expires_at IS NULL OR expires_at > ?1)
              ORDER BY priority DESC, seq LIMIT ?7)
            AND state = 'available'
            RETURNING \(JobColumns.list), seq
            """,
            claimValues(request, ctx: ctx, config: config) + [.text(queue), .int(Int64(limit))]
        ) { rows.append((JobColumns.snapshot($0), $0.int(22))) }
        rows.sort { $0.0.priority != $1.0.priority ? $0.0.priority > $1.0.priority : $0.1 < $1.1 }
        return rows.map(\.0)
    }

    static func claimValues(_ request: FetchRequest, ctx: WriteContext, config: StoreConfiguration) -> [SQLValue] {
        [
            .int(ctx.now), SQLValue(request.workerId), SQLValue(request.visibilityTimeoutMs), .int(config.defaultVisibilityTimeoutMs),
            .int(config.defaultExecutionTimeoutMs),
        ]
    }

    /// When keyed rate limits exist, candidates are checked one by one against their
    /// partition (concurrency and rate), skipping (and leaving `available`) those at their limit.
    static func claimRespectingPartitions(
        queue: String,
        limit: Int,
        request: FetchRequest,
        ctx: WriteContext,
        config: StoreConfiguration
    ) throws -> [JobSnapshot] {
        var candidates: [(id: String, key: String?)] = []
        try ctx.db.query(
            """
            SELECT id, rate_key FROM jobs WHERE queue = ? AND state = 'available' AND (expires_at IS NULL OR expires_at > ?)
            ORDER BY priority DESC, seq LIMIT ?
            """,
            [.text(queue), .int(ctx.now), .int(Int64(limit * 8 + 16))]
        ) { candidates.append(($0.text(0), $0.optText(1))) }
        var claimed: [JobSnapshot] = []
        var blocked = Set<String>()
        for candidate in candidates where claimed.count < limit {
            if let key = candidate.key {
                if blocked.contains(key) { continue }
                if let partition = try RateLimits.partition(key, db: ctx.db), partition.remaining(now: ctx.now) <= 0 {
                    blocked.insert(key)
                    continue
                }
            }
            let jobs = try ctx.db.jobs(
                "UPDATE jobs SET \(claimSet) WHERE id = ?6 AND state = 'available' RETURNING \(JobColumns.list)",
                claimValues(request, ctx: ctx, config: config) + [.text(candidate.id)]
            )
            if let key = candidate.key, !jobs.isEmpty { try RateLimits.recordStart(key, ctx: ctx) }
            claimed += jobs
        }
        return claimed
    }
}
