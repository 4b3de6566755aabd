import OJSCore

/// Whole-server figures for the admin API.
public struct ServerStats: Sendable {
    public var queues: Int64
    public var workers: Int64
    public var jobs: [JobState: Int64]
    public var completedLastMinute: Int64
    public var failedLastMinute: Int64
}

/// A worker as the registry knows it.
public struct WorkerSnapshot: Sendable {
    public var id: String
    public var state: String
    public var directive: String?
    public var firstSeenAt: Int64
    public var lastSeenAt: Int64
    public var activeJobs: Int64

    /// The worker announced it is shutting down: it gets no new jobs.
    public var isDraining: Bool { Workers.isDraining(state) }

    /// The columns `row` reads, in its order.
    static let columns = "id, state, directive, first_seen_at, last_seen_at, active_jobs"

    static func row(_ r: Row) -> WorkerSnapshot {
        WorkerSnapshot(
            id: r.text(0),
            state: r.text(1),
            directive: r.optText(2),
            firstSeenAt: r.int(3),
            lastSeenAt: r.int(4),
            activeJobs: r.int(5)
        )
    }
}

/// The outcome of a bulk retry.
public struct BulkRetryResult: Sendable {
    public var matched: Int
    public var succeeded: Int
    public var errors: [(jobId: String, error: String)]
}

/// Rate-limit partition status.
public struct RateLimitStatus: Sendable {
    public var key: String
    public var concurrency: Int64?
    public var active: Int64
    public var rateLimit: Int64?
    public var ratePeriodMs: Int64?
    public var currentCount: Int64
    public var windowResetsAt: Int64?
    public var waiting: Int64
}

extension Store {
    /// Whole-server counts. `recentThroughput` adds the last minute's completions and
    /// failures, which count index entries (600,000 of them at 10,000 jobs/s), so the
    /// console's overview leaves it out and counts events instead (`tallyEvents`).
    public func serverStats(recentThroughput: Bool = true) async throws -> ServerStats {
        try await read { db in
            var jobs: [JobState: Int64] = [:]
            try db.query("SELECT state, sum(jobs) FROM queue_state_counts GROUP BY state") {
                if let s = JobState(rawValue: $0.text(0)) { jobs[s] = $0.int(1) }
            }
            let since = Store.systemClock() - 60_000
            return ServerStats(
                queues: try db.scalar("SELECT count(*) FROM queues"),
                workers: try db.scalar("SELECT count(*) FROM workers"),
                jobs: jobs,
                completedLastMinute: recentThroughput
                    ? try db.scalar("SELECT count(*) FROM jobs WHERE state = 'completed' AND completed_at >= ?", [.int(since)]) : 0,
                failedLastMinute: recentThroughput
                    ? try db.scalar("SELECT count(*) FROM jobs WHERE state = 'discarded' AND completed_at >= ?", [.int(since)]) : 0
            )
        }
    }

    public func workers(limit: Int, offset: Int) async throws -> (items: [WorkerSnapshot], total: Int64) {
        try await read { db in
            var items: [WorkerSnapshot] = []
            try db.query(
                "SELECT \(WorkerSnapshot.columns) FROM workers ORDER BY id LIMIT ? OFFSET ?",
                [.int(Int64(limit)), .int(Int64(offset))]
            ) {
                items.append(
                    WorkerSnapshot.row($0)
                )
            }
            return (items, try db.scalar("SELECT count(*) FROM workers"))
        }
    }

    public func worker(id: String) async throws -> WorkerSnapshot? {
        try await read { db in
            try db.first("SELECT \(WorkerSnapshot.columns) FROM workers WHERE id = ?", [.text(id)]) {
                WorkerSnapshot.row($0)
            }
        }
    }

    /// A worker's beat: recorded state (`drain` stops new work) and reservation extensions.
    public func beat(_ request: HeartbeatRequest) async throws -> WorkerSnapshot {
        let config = configuration
        return try await write { ctx in
            try Workers.touch(request.workerId, ctx: ctx, reportedState: request.reportedState, activeJobs: request.activeJobCount)
            for id in request.jobIds {
                try ctx.db.run(
                    "UPDATE jobs SET visible_until = ?1 + coalesce(?2, visibility_timeout_ms, ?3) WHERE id = ?4 AND state = 'active'",
                    [.int(ctx.now), SQLValue(request.visibilityTimeoutMs), .int(config.defaultVisibilityTimeoutMs), .text(id)]
                )
            }
            guard
                let w = try ctx.db.first(
                    "SELECT \(WorkerSnapshot.columns) FROM workers WHERE id = ?",
                    [.text(request.workerId)],
                    {
                        WorkerSnapshot.row($0)
                    }
                )
            else { throw OJSError.notFound("worker", request.workerId) }
            return w
        }
    }

    /// The most jobs one bulk retry request retries.
    static let bulkRetryLimit = 10_000

    /// Retries every dead-lettered (or, with `state: discarded`, every discarded) job matching
    /// the filter, oldest first, up to `bulkRetryLimit`. It runs in chunks of
    /// `maintenanceChunkRows` jobs, each its own writer transaction, walking the matches in
    /// (discarded_at, rowid) order so a job that could not be retried is not met again.
    public func bulkRetry(queue: String?, type: String?, since: Int64?, onlyDeadLetter: Bool) async throws -> BulkRetryResult {
        var sql = "SELECT id, coalesce(discarded_at, 0), rowid FROM jobs WHERE state = 'discarded'"
        var values: [SQLValue] = []
        if onlyDeadLetter { sql += " AND dead_lettered_at IS NOT NULL" }
        if let queue {
            sql += " AND queue = ?"
            values.append(.text(queue))
        }
        if let type {
            sql += " AND type = ?"
            values.append(.text(type))
        }
        if let since {
            sql += " AND discarded_at >= ?"
            values.append(.int(since))
        }
        sql += " AND (coalesce(discarded_at, 0), rowid) > (?, ?) ORDER BY coalesce(discarded_at, 0), rowid LIMIT ?"
        let select = sql
        let filterValues = values
        let chunk = max(1, configuration.maintenanceChunkRows)
        var result = BulkRetryResult(matched: 0, succeeded: 0, errors: [])
        var after: (Int64, Int64) = (Int64.min, Int64.min)
        while result.matched < Self.bulkRetryLimit {
            let want = min(chunk, Self.bulkRetryLimit - result.matched)
            let from = after
            let part = try await write { ctx in
                var rows: [(id: String, key: (Int64, Int64))] = []
                try ctx.db.query(select, filterValues + [.int(from.0), .int(from.1), .int(Int64(want))]) {
                    rows.append(($0.text(0), ($0.int(1), $0.int(2))))
                }
                var part = BulkRetryResult(matched: rows.count, succeeded: 0, errors: [])
                for row in rows {
                    try ctx.db.run("UPDATE jobs SET dead_lettered_at = coalesce(dead_lettered_at, ?) WHERE id = ?", [.int(ctx.now), .text(row.id)])
                    do {
                        _ = try Self.retryDeadLetterRow(id: row.id, ctx: ctx)
                        part.succeeded += 1
                    } catch let error as OJSError {
                        part.errors.append((row.id, error.message))
                    }
                }
                return (part, rows.last?.key)
            }
            result.matched += part.0.matched
            result.succeeded += part.0.succeeded
            result.errors += part.0.errors
            guard let last = part.1, part.0.matched == want else { break }
            after = last
        }
        return result
    }

    public func rateLimit(key: String) async throws -> RateLimitStatus? {
        try await read { db in
            guard let p = try RateLimits.partition(key, db: db) else { return nil }
            let now = Store.systemClock()
            let inWindow = p.windowStart.map { now < $0 + (p.ratePeriodMs ?? 1000) } ?? false
            let waiting = try db.scalar("SELECT count(*) FROM jobs WHERE rate_key = ? AND state = 'available'", [.text(key)])
            return RateLimitStatus(
                key: key,
                concurrency: p.concurrency,
                active: p.active,
                rateLimit: p.rateLimit,
                ratePeriodMs: p.ratePeriodMs,
                currentCount: inWindow ? p.windowCount : 0,
                windowResetsAt: p.rateLimit == nil ? nil : p.windowEnd(now: now),
                waiting: waiting
            )
        }
    }
}
