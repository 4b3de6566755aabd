import OJSCore

/// Rate limits applied at claim time: the level-4 per-queue `max_per_second` (a one-second
/// window on the queue row) and keyed partitions (concurrency and rate per key).
enum RateLimits {
    /// Records the limits a job carries; the latest enqueue's values win.
    static func configure(_ spec: RateLimitSpec, queue: String, ctx: WriteContext) throws {
        if let perSecond = spec.maxPerSecond {
            try ctx.db.run("UPDATE queues SET rate_max_per_second = ? WHERE name = ?", [.int(Int64(perSecond)), .text(queue)])
        }
        guard let key = spec.key else { return }
        try ctx.db.run(
            """
            INSERT INTO rate_limits (key, concurrency, rate_limit, rate_period_ms, on_limit, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET concurrency = excluded.concurrency, rate_limit = excluded.rate_limit,
              rate_period_ms = excluded.rate_period_ms, on_limit = excluded.on_limit, updated_at = excluded.updated_at
            """,
            [
                .text(key), SQLValue(spec.concurrency), SQLValue(spec.rateLimit), SQLValue(spec.ratePeriodMs),
                .text(spec.onLimit.rawValue), .int(ctx.now),
            ]
        )
    }

    /// A keyed partition's limits and live usage.
    struct Partition {
        var key: String
        var concurrency: Int64?
        var rateLimit: Int64?
        var ratePeriodMs: Int64?
        var windowStart: Int64?
        var windowCount: Int64
        var onLimit: String
        var active: Int64

        /// Starts still allowed now.
        func remaining(now: Int64) -> Int64 {
            var left = Int64.max
            if let c = concurrency { left = min(left, max(0, c - active)) }
            if let r = rateLimit {
                let inWindow = windowStart.map { now < $0 + (ratePeriodMs ?? 1000) } ?? false
                left = min(left, max(0, r - (inWindow ? windowCount : 0)))
            }
            return left
        }

        func windowEnd(now: Int64) -> Int64 {
            let period = ratePeriodMs ?? 1000
            if let s = windowStart, now < s + period { return s + period }
            return now + period
        }
    }

    static func partition(_ key: String, db: Connection) throws -> Partition? {
        try db.first(
            """
            SELECT key, concurrency, rate_limit, rate_period_ms, window_start, window_count, on_limit,
              (SELECT count(*) FROM jobs WHERE rate_key = rate_limits.key AND state = 'active')
            FROM rate_limits WHERE key = ?
            """,
            [.text(key)]
        ) { row in
            Partition(
                key: row.text(0),
                concurrency: row.optInt(1),
                rateLimit: row.optInt(2),
                ratePeriodMs: row.optInt(3),
                windowStart: row.optInt(4),
                windowCount: row.int(5),
                onLimit: row.text(6),
                active: row.int(7)
            )
        }
    }

    /// Counts one start against the partition's rate window.
    static func recordStart(_ key: String, ctx: WriteContext) throws {
        try ctx.db.run(
            """
            UPDATE rate_limits SET
              window_count = CASE WHEN window_start IS NOT NULL AND ? < window_start + coalesce(rate_period_ms, 1000)
                THEN window_count + 1 ELSE 1 END,
              window_start = CASE WHEN window_start IS NOT NULL AND ? < window_start + coalesce(rate_period_ms, 1000)
                THEN window_start ELSE ? END
            WHERE key = ?
            """,
            [.int(ctx.now), .int(ctx.now), .int(ctx.now), .text(key)]
        )
    }

    static func anyKeyed(db: Connection) throws -> Bool {
        try db.first("SELECT 1 FROM rate_limits LIMIT 1") { _ in true } ?? false
    }
}
