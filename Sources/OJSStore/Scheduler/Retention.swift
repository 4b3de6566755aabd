import Dispatch
import OJSCore

/// Deletes what has outlived its retention: completed, discarded and cancelled jobs, finished
/// workflows with no jobs left, old events, expired idempotency keys, and idle workers, queues
/// and rate-limit partitions. One call is one writer transaction's worth: rounds of one
/// statement per kind (`purgeBatchSize` rows each), repeated while some kind filled its batch
/// and the transaction's time budget (`purgeTransactionBudgetMs`) lasts. `more` says rows
/// remain; `Store.tick` then commits and runs another transaction, so a backlog drains at the
/// speed SQLite deletes (tens of thousands of rows a second) while other requests' batches
/// commit between transactions.
enum Retention {
    static func purge(_ ctx: WriteContext, config: StoreConfiguration) throws -> PurgeReport {
        let started = DispatchTime.now().uptimeNanoseconds
        let budget = UInt64(max(0, config.purgeTransactionBudgetMs)) * 1_000_000
        var report = PurgeReport()
        while true {
            let round = try purgeRound(ctx, config: config)
            report.add(round)
            guard round.more, DispatchTime.now().uptimeNanoseconds - started < budget else { break }
        }
        // After the jobs' purge, so a queue whose last job just went is seen empty now.
        let more = report.more
        report.add(try IdleExpiry.sweep(ctx, config: config))
        report.more = more
        return report
    }

    /// One statement per kind; `more` when some kind filled its batch.
    private static func purgeRound(_ ctx: WriteContext, config: StoreConfiguration) throws -> PurgeReport {
        var report = PurgeReport()
        let batch = max(1, config.purgeBatchSize)
        if let keep = config.completedRetentionMs {
            report.completed = try purgeJobs(
                "state = 'completed' AND completed_at <= ?1",
                order: "completed_at",
                before: ctx.now - keep,
                batch: batch,
                ctx
            )
        }
        if let keep = config.discardedRetentionMs {
            // Dead letters (`dead_lettered_at` set) are never purged: they leave the queue only
            // by an operator's replay or delete.
            report.discarded = try purgeJobs(
                "state = 'discarded' AND dead_lettered_at IS NULL AND discarded_at <= ?1",
                order: "discarded_at",
                before: ctx.now - keep,
                batch: batch,
                ctx
            )
            report.cancelled = try purgeJobs(
                "state = 'cancelled' AND cancelled_at <= ?1",
                order: "cancelled_at",
                before: ctx.now - keep,
                batch: batch,
                ctx
            )
        }
        if let keep = config.completedRetentionMs {
            report.workflows = try purgeWorkflows(before: ctx.now - keep, batch: batch, ctx)
        }
        report.events = try EventLog.purge(before: ctx.now - config.eventRetentionMs, limit: batch, ctx)
        report.idempotencyKeys = try IdempotencyKeys.purgeExpired(ctx, limit: batch)
        report.more = [report.completed, report.discarded, report.cancelled, report.workflows, report.events, report.idempotencyKeys]
            .contains { $0 >= batch }
        return report
    }

    /// Deletes up to `batch` jobs matching `condition` (with `?1` the cutoff), oldest first,
    /// and their progress rows. A job of a workflow that is still running is kept whatever
    /// its age: the workflow reads its steps' states and results to decide what runs next,
    /// and a missing step would look like one never started.
    private static func purgeJobs(_ condition: String, order: String, before cutoff: Int64, batch: Int, _ ctx: WriteContext) throws -> Int {
        var ids: [String] = []
        try ctx.db.query(
            """
            DELETE FROM jobs WHERE id IN (
              SELECT id FROM jobs WHERE \(condition)
                AND (workflow_id IS NULL OR NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = jobs.workflow_id AND w.state = 'running'))
              ORDER BY \(order) LIMIT ?2)
            RETURNING id
            """,
            [.int(cutoff), .int(Int64(batch))]
        ) { ids.append($0.text(0)) }
        guard !ids.isEmpty else { return 0 }
        let list = JSONValue.array(ids.map { .string($0) }).jsonText
        try ctx.db.run("DELETE FROM job_progress WHERE job_id IN (SELECT value FROM json_each(?))", [.text(list)])
        return ids.count
    }

    /// A finished workflow goes once all its jobs have gone, so `GET /workflows/{id}` never
    /// shows a workflow whose steps vanished while the workflow itself is still listed.
    private static func purgeWorkflows(before cutoff: Int64, batch: Int, _ ctx: WriteContext) throws -> Int {
        try ctx.db.run(
            """
            DELETE FROM workflows WHERE id IN (
              SELECT id FROM workflows WHERE state != 'running' AND finished_at <= ?1
                AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.workflow_id = workflows.id)
              ORDER BY finished_at LIMIT ?2)
            """,
            [.int(cutoff), .int(Int64(batch))]
        )
    }
}
