import OJSCore

/// Deletes registry rows nobody has used for `idleExpiryMs`: workers not seen, queues with no
/// jobs (and no operator setting: not paused, no depth bound, no push endpoint), and rate-limit
/// partitions no unfinished job names. Without it these tables only grow: a worker id per
/// worker process ever started, a queue per name ever pushed to. A queue has no last-used time,
/// so a sweep first marks `idle_since` on queues it finds empty (an enqueue clears it) and
/// deletes those marked longer ago than the idle time.
enum IdleExpiry {
    /// A sweep reads every queue row to mark the empty ones, so it runs at most this often.
    static let sweepIntervalMs: Int64 = 10_000

    static func sweep(_ ctx: WriteContext, config: StoreConfiguration) throws -> PurgeReport {
        var report = PurgeReport()
        guard let idle = config.idleExpiryMs, ctx.now - ctx.idleSweptAt >= sweepIntervalMs else { return report }
        ctx.idleSweptAt = ctx.now
        let cutoff = ctx.now - idle
        let limit = Int64(max(1, config.purgeBatchSize))
        report.workers = try ctx.db.run(
            "DELETE FROM workers WHERE id IN (SELECT id FROM workers WHERE last_seen_at <= ?1 ORDER BY last_seen_at LIMIT ?2)",
            [.int(cutoff), .int(limit)]
        )
        try ctx.db.run(
            """
            UPDATE queues SET idle_since = ?1
              WHERE idle_since IS NULL AND NOT EXISTS (SELECT 1 FROM queue_state_counts c WHERE c.queue = queues.name AND c.jobs > 0)
            """,
            [.int(ctx.now)]
        )
        report.queues = try ctx.db.run(
            """
            DELETE FROM queues WHERE name IN (
              SELECT name FROM queues WHERE idle_since <= ?1 AND paused = 0 AND max_depth IS NULL
                AND NOT EXISTS (SELECT 1 FROM queue_state_counts c WHERE c.queue = queues.name AND c.jobs > 0)
                AND NOT EXISTS (SELECT 1 FROM push_endpoints p WHERE p.queue = queues.name)
              LIMIT ?2)
            """,
            [.int(cutoff), .int(limit)]
        )
        report.rateLimits = try ctx.db.run(
            """
            DELETE FROM rate_limits WHERE key IN (
              SELECT key FROM rate_limits WHERE updated_at <= ?1 AND coalesce(window_start, 0) <= ?1
                AND NOT EXISTS (
                  SELECT 1 FROM jobs WHERE jobs.rate_key = rate_limits.key
                    AND jobs.state IN ('scheduled', 'available', 'pending', 'active', 'retryable'))
              ORDER BY updated_at LIMIT ?2)
            """,
            [.int(cutoff), .int(limit)]
        )
        // A full batch of any kind: sweep again at the next purge instead of waiting.
        if [report.workers, report.queues, report.rateLimits].contains(where: { Int64($0) >= limit }) {
            ctx.idleSweptAt = Int64.min / 2
        }
        return report
    }
}
