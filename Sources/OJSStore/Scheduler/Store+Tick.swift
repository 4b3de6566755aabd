import Dispatch
import OJSCore

extension Store {
    /// One pass of the scheduler's work: time-driven transitions, due cron entries, and
    /// retention purges. Run by the ticker, and by `POST /ojs/v1/admin/tick` for a platform
    /// cron. Each step runs in bounded chunks, each chunk its own writer transaction, queued
    /// behind whatever requests arrived meanwhile: a push waits for at most one chunk, never for
    /// a whole 50,000-job promotion. Transitions run until none is left; purging stops after
    /// `Self.purgePassBudgetMs` (reporting `more`), so a deep backlog never keeps the ticker
    /// from its next round of promotions.
    @discardableResult
    public func tick() async throws -> TickReport {
        let config = configuration
        var report = TickReport()
        let transitionsStarted = DispatchTime.now().uptimeNanoseconds
        repeat {
            let chunk = try await write { ctx in
                var chunk = try Maintenance.chunk(ctx, config: config)
                chunk.transactions = 1
                return chunk
            }
            report.add(chunk)
        } while report.more && DispatchTime.now().uptimeNanoseconds - transitionsStarted < Self.transitionPassBudgetMs * 1_000_000
        let transitionsLeft = report.more
        let cron = try await write { ctx in
            var cron = TickReport()
            cron.cronFired = try CronRunner.fireDue(ctx, config: config)
            cron.transactions = 1
            return cron
        }
        report.add(cron)
        let started = DispatchTime.now().uptimeNanoseconds
        repeat {
            var chunk = TickReport()
            chunk.purge = try await write { ctx in
                defer { ctx.purgedAt = ctx.now }
                return try Retention.purge(ctx, config: config)
            }
            chunk.transactions = 1
            report.add(chunk)
        } while report.purge.more && DispatchTime.now().uptimeNanoseconds - started < Self.purgePassBudgetMs * 1_000_000
        report.more = transitionsLeft
        return report
    }

    /// How long one tick keeps running transition chunks while more are due: a stream of due
    /// jobs arriving as fast as they are promoted must not keep cron and purges waiting.
    static let transitionPassBudgetMs: UInt64 = 5000

    /// How long one tick keeps purging a backlog before it hands the ticker back (the rest
    /// goes on at the next tick). Purge transactions are interleaved with other requests
    /// anyway; this only keeps promotions and cron on time while a large backlog drains.
    static let purgePassBudgetMs: UInt64 = 1000

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
                """,
                [.text(id), .int(now)]
            ) > 0
        }
        guard due else { return false }
        let config = configuration
        _ = try await write { ctx in try Maintenance.runDue(ctx, config: config) }
        return true
    }
}

/// The scheduler's work inside other requests' transactions.
enum SchedulerPass {
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
