import Foundation
import OJSCore

/// Fires due cron entries from the scheduler's tick. The firing, the job it enqueues and the
/// new `next_run_at` are one transaction, so a tick fires at most once even across restarts.
enum CronRunner {
    /// Returns how many entries enqueued a job.
    @discardableResult
    static func fireDue(_ ctx: WriteContext, config: StoreConfiguration) throws -> Int {
        var firedCount = 0
        var due: [(name: String, expression: String, timezone: String, overlap: String, template: String, lastJob: String?, nextRun: Int64)] = []
        try ctx.db.query(
            """
            SELECT name, expression, timezone, overlap_policy, job_template, last_job_id, next_run_at FROM crons
            WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at LIMIT 100
            """,
            [.int(ctx.now)]
        ) { due.append(($0.text(0), $0.text(1), $0.text(2), $0.text(3), $0.text(4), $0.optText(5), $0.int(6))) }
        for entry in due {
            let next = nextRun(entry.expression, timezone: entry.timezone, after: ctx.now)
            var jobId = entry.lastJob
            var fired = false
            if try overlapAllowsFiring(entry.name, policy: entry.overlap, lastJob: entry.lastJob, ctx: ctx) {
                let request = CronDefinition.jobRequest(
                    template: (try? JSONParser.parse(entry.template)) ?? .null,
                    name: entry.name,
                    firedAt: entry.nextRun
                )
                do {
                    let job = try Store.insert(PreparedJob(try JobSpec.parse(request, now: ctx.now, limits: .unbounded)), ctx: ctx).job
                    jobId = job.id
                    fired = true
                    firedCount += 1
                    try EventLog.record(
                        ctx,
                        type: "cron.triggered",
                        subject: entry.name,
                        queue: job.queue,
                        jobType: job.type,
                        data: [("cron_name", .string(entry.name)), ("job_id", .string(job.id))]
                    )
                } catch let error as OJSError {
                    try EventLog.record(
                        ctx,
                        type: "cron.failed",
                        subject: entry.name,
                        queue: nil,
                        jobType: nil,
                        data: [("cron_name", .string(entry.name)), ("error", .string(error.message))]
                    )
                }
            }
            try ctx.db.run(
                """
                UPDATE crons SET next_run_at = ?, last_run_at = CASE WHEN ? THEN ? ELSE last_run_at END,
                  run_count = run_count + ?, last_job_id = ? WHERE name = ?
                """,
                [SQLValue(next), SQLValue(fired), .int(ctx.now), .int(fired ? 1 : 0), SQLValue(jobId), .text(entry.name)]
            )
        }
        return firedCount
    }

    /// Whether a due entry may enqueue now. `skip` waits while its previous job is unfinished
    /// (waiting counts, not only running); `cancel_previous` cancels that job first.
    static func overlapAllowsFiring(_ name: String, policy: String, lastJob: String?, ctx: WriteContext) throws -> Bool {
        guard policy != "allow", let lastJob, let job = try ctx.db.job(lastJob), !job.state.isTerminal else { return true }
        if policy == "cancel_previous" {
            _ = try Store.cancelRow(id: lastJob, ctx: ctx)
            return true
        }
        try EventLog.record(
            ctx,
            type: "cron.skipped",
            subject: name,
            queue: job.queue,
            jobType: job.type,
            data: [("cron_name", .string(name)), ("running_job_id", .string(lastJob))]
        )
        return false
    }

    static func nextRun(_ expression: String, timezone: String, after: Int64) -> Int64? {
        guard let expr = try? CronExpression.parse(expression), let tz = TimeZone(identifier: timezone) else { return nil }
        return expr.next(after: after, in: tz)
    }
}
