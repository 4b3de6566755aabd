import OJSCore

/// Time-driven transitions: promote due scheduled and retryable jobs, discard expired ones,
/// reclaim expired reservations, fail jobs past their execution timeout. Run by the
/// scheduler's tick and, lazily, at the start of every fetch (so a job due 200 ms ago is
/// fetchable even between ticks, and in serverless mode with no ticker at all).
///
/// Each step touches at most `maintenanceChunkRows` rows per call, so one writer transaction
/// holds at most one chunk of each: the scheduler runs chunk after chunk, each its own
/// transaction, and other requests' batches commit in between (`Store.tick`).
enum Maintenance {
    /// Returns what it did; all zero when this batch already ran it (another request in the
    /// same transaction did the work).
    @discardableResult
    static func runDue(_ ctx: WriteContext, config: StoreConfiguration) throws -> TickReport {
        guard ctx.maintainedAt != ctx.now else { return TickReport() }
        return try chunk(ctx, config: config)
    }

    /// One chunk of every step, whether or not this batch ran one already. `more` is set when
    /// a step filled its chunk: rows may remain for the next transaction.
    static func chunk(_ ctx: WriteContext, config: StoreConfiguration) throws -> TickReport {
        var report = TickReport()
        ctx.maintainedAt = ctx.now
        let limit = max(1, config.maintenanceChunkRows)
        report.expired = try expire(ctx, limit: limit)
        report.promoted = try promote(ctx, limit: limit)
        report.reclaimed = try reclaimReservations(ctx, config: config, limit: limit)
        report.timedOut = try failTimedOut(ctx, config: config, limit: limit)
        report.more = [report.expired, report.promoted, report.reclaimed, report.timedOut].contains { $0 >= limit }
        return report
    }

    /// `scheduled`/`retryable` with `run_at <= now` → `available`, FIFO position by due time;
    /// the `limit` earliest due first.
    static func promote(_ ctx: WriteContext, limit: Int) throws -> Int {
        try ctx.db.run(
            """
            UPDATE jobs SET state = 'available', enqueued_at = ?1, seq = (run_at << 10) | (rowid & 1023), run_at = NULL
            WHERE rowid IN (
              SELECT rowid FROM jobs WHERE state IN ('scheduled', 'retryable') AND run_at <= ?1 ORDER BY run_at LIMIT ?2)
            """,
            [.int(ctx.now), .int(Int64(limit))]
        )
    }

    /// Unstarted jobs past `expires_at` → `discarded` (no `completed_at`).
    static func expire(_ ctx: WriteContext, limit: Int) throws -> Int {
        let error = JSONValue.object(
            JSONObject([
                ("code", "expired"), ("type", "expired"), ("message", "Job expired before it was started"),
                ("occurred_at", .string(Timestamp.format(millis: ctx.now))),
            ])
        ).jsonText
        let expired = try ctx.db.jobs(
            """
            UPDATE jobs SET state = 'discarded', discarded_at = ?1, error = ?2, run_at = NULL
            WHERE rowid IN (
              SELECT rowid FROM jobs WHERE expires_at IS NOT NULL AND state IN ('available', 'scheduled', 'pending') AND expires_at <= ?1
              ORDER BY expires_at LIMIT ?3)
            RETURNING \(JobColumns.list)
            """,
            [.int(ctx.now), .text(error), .int(Int64(limit))]
        )
        for job in expired {
            try EventLog.record(ctx, type: "job.expired", job: job, data: [("job_type", .string(job.type)), ("queue", .string(job.queue))])
            try Workflows.jobSettled(job, ctx: ctx)
        }
        return expired.count
    }

    /// Active jobs whose reservation lapsed (no ack, no heartbeat) go back to `available`
    /// for another worker, with a `visibility_timeout` entry in their error history. One
    /// that has used all its attempts is failed through its retry policy instead.
    static func reclaimReservations(_ ctx: WriteContext, config: StoreConfiguration, limit: Int) throws -> Int {
        let lapsed = try ctx.db.jobs(
            "SELECT \(JobColumns.list) FROM jobs WHERE state = 'active' AND visible_until <= ? ORDER BY visible_until LIMIT ?",
            [.int(ctx.now), .int(Int64(limit))]
        )
        for job in lapsed {
            let vt = try ctx.db.scalar(
                "SELECT coalesce(visibility_timeout_ms, ?) FROM jobs WHERE id = ?",
                [.int(config.defaultVisibilityTimeoutMs), .text(job.id)]
            )
            let failure = JobFailure.visibilityTimeout(timeoutMs: vt)
            if job.attempt >= job.maxAttempts {
                _ = try Store.fail(job, failure: failure, requeue: false, ctx: ctx, config: config)
                continue
            }
            let record = failure.record(attempt: job.attempt, occurredAt: ctx.now)
            ctx.reportLifecycle("job.reclaimed", job: job, data: [("error", record)])
            try ctx.db.run(
                """
                UPDATE jobs SET state = 'available', worker_id = NULL, visible_until = NULL, timeout_at = NULL, error = ?,
                  errors = ?, seq = ?, enqueued_at = ?
                WHERE id = ?
                """,
                [
                    .text(record.jsonText), .text(Store.appendError(record, to: job.errors, keep: config.maxErrorHistory)),
                    .int(ctx.nextSeq()), .int(ctx.now), .text(job.id),
                ]
            )
        }
        return lapsed.count
    }

    /// Active jobs past their execution timeout fail with a `timeout` error (no grace period).
    static func failTimedOut(_ ctx: WriteContext, config: StoreConfiguration, limit: Int) throws -> Int {
        var timedOut: [(JobSnapshot, Int64)] = []
        try ctx.db.query(
            """
            SELECT \(JobColumns.list), coalesce(timeout_ms, ?) FROM jobs
            WHERE state = 'active' AND timeout_at IS NOT NULL AND timeout_at <= ? ORDER BY timeout_at LIMIT ?
            """,
            [.int(config.defaultExecutionTimeoutMs), .int(ctx.now), .int(Int64(limit))]
        ) { timedOut.append((JobColumns.snapshot($0), $0.int(22))) }
        for (job, timeout) in timedOut {
            _ = try Store.fail(job, failure: .executionTimeout(timeoutMs: timeout), requeue: false, ctx: ctx, config: config)
        }
        return timedOut.count
    }
}
