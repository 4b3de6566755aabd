import OJSCore

extension Store {
    /// One pass of the scheduler's work, in one write transaction: time-driven transitions,
    /// due cron entries, and retention purges. Run by the ticker, and by
    /// `POST /ojs/v1/admin/tick` for a platform cron.
    @discardableResult
    public func tick() async throws -> TickReport {
        let config = configuration
        return try await write { ctx in try SchedulerPass.full(ctx, config: config) }
    }

    /// For a job GET in serverless mode: applies the time-driven transitions if job `id`
    /// has one due, so a plain GET observes a promotion or a timeout the ticker would have
    /// made. Costs one primary-key read when nothing is due; only then does it write.
    /// Returns whether it wrote.
    public func applyDueTransitions(forJob id: String) async throws -> Bool {
        let now = clock()
        let due = try await read { db in
            try db.scalar(
                """
                SELECT count(*) FROM jobs WHERE id = ?1 AND (
                  (state IN ('scheduled', 'retryable') AND run_at <= ?2)
                  OR (state = 'active' AND (visible_until <= ?2 OR timeout_at <= ?2))
                  OR (state IN ('available', 'scheduled', 'pending') AND expires_at <= ?2))
                """, [.text(id), .int(now)]) > 0
        }
        guard due else { return false }
        let config = configuration
        _ = try await write { ctx in try Maintenance.runDue(ctx, config: config) }
        return true
    }
}

/// The scheduler's pass, in the shapes its callers need.
enum SchedulerPass {
    static func full(_ ctx: WriteContext, config: StoreConfiguration) throws -> TickReport {
        var report = try Maintenance.runDue(ctx, config: config)
        report.cronFired = try CronRunner.fireDue(ctx, config: config)
        report.purge = try Retention.purge(ctx, config: config)
        ctx.purgedAt = ctx.now
        return report
    }

    /// At the start of every fetch. With a ticker running, only the transitions that decide
    /// what the fetch may claim. In serverless mode there is no ticker, so the fetch also
    /// fires due cron entries (a cron job must become fetchable without a platform cron
    /// calling in first) and purges — at most once a second, so a backlog of old rows is not
    /// paid for by every fetch.
    static func beforeFetch(_ ctx: WriteContext, config: StoreConfiguration) throws {
        guard ctx.maintainedAt != ctx.now else { return }
        try Maintenance.runDue(ctx, config: config)
        guard config.serverless else { return }
        try CronRunner.fireDue(ctx, config: config)
        if ctx.now - ctx.purgedAt >= 1000 {
            _ = try Retention.purge(ctx, config: config)
            ctx.purgedAt = ctx.now
        }
    }
}
