import OJSCore

/// A page of dead-lettered jobs.
public struct DeadLetterPage: Sendable {
    public var jobs: [JobSnapshot]
    public var total: Int64
}

/// Dead-letter summary for the admin API.
public struct DeadLetterStats: Sendable {
    public var total: Int64
    public var byQueue: [(String, Int64)]
    public var byErrorType: [(String, Int64)]
    public var oldest: Int64?
    public var newest: Int64?
}

/// The dead-letter queue is a view on `jobs`: discarded jobs whose policy said
/// `dead_letter` carry `dead_lettered_at`. Retry brings one back; delete removes it for good.
extension Store {
    public func deadLetters(queue: String?, type: String?, limit: Int, offset: Int) async throws -> DeadLetterPage {
        var selection = DeadLetterFilter()
        selection.queue = queue
        selection.type = type
        return try await deadLetters(selection, limit: limit, offset: offset)
    }

    /// The dead letters `selection` matches (its `limit` and `confirm` are ignored), newest first.
    public func deadLetters(_ selection: DeadLetterFilter, limit: Int, offset: Int) async throws -> DeadLetterPage {
        let (filter, values) = Self.deadLetterCondition(selection)
        return try await read { db in
            let total = try db.scalar("SELECT count(*) FROM jobs WHERE \(filter)", values)
            let jobs = try db.jobs(
                "SELECT \(JobColumns.list) FROM jobs WHERE \(filter) ORDER BY dead_lettered_at DESC, id LIMIT ? OFFSET ?",
                values + [.int(Int64(limit)), .int(Int64(offset))]
            )
            return DeadLetterPage(jobs: jobs, total: total)
        }
    }

    public func deadLetterStats() async throws -> DeadLetterStats {
        try await read { db in
            let filter = Self.inDeadLetterQueue
            var stats = DeadLetterStats(total: 0, byQueue: [], byErrorType: [])
            try db.query("SELECT count(*), min(dead_lettered_at), max(dead_lettered_at) FROM jobs WHERE \(filter)") {
                stats.total = $0.int(0)
                stats.oldest = $0.optInt(1)
                stats.newest = $0.optInt(2)
            }
            try db.query("SELECT queue, count(*) FROM jobs WHERE \(filter) GROUP BY queue ORDER BY queue") {
                stats.byQueue.append(($0.text(0), $0.int(1)))
            }
            try db.query(
                "SELECT coalesce(json_extract(error, '$.type'), 'unknown'), count(*) FROM jobs WHERE \(filter) GROUP BY 1 ORDER BY 1"
            ) { stats.byErrorType.append(($0.text(0), $0.int(1))) }
            return stats
        }
    }

    /// `discarded → available`, attempt reset to 0, same id; the error history is kept.
    public func retryDeadLetter(id: String) async throws -> JobSnapshot {
        try await write { ctx in try Self.retryDeadLetterRow(id: id, ctx: ctx) }
    }

    static func retryDeadLetterRow(id: String, ctx: WriteContext) throws -> JobSnapshot {
        guard let job = try ctx.db.job(id) else { throw OJSError.notFound("dead-letter job", id) }
        let inDLQ = try ctx.db.scalar("SELECT dead_lettered_at IS NOT NULL FROM jobs WHERE id = ?", [.text(id)]) != 0
        guard inDLQ, job.state == .discarded else {
            throw OJSError.notFound("dead-letter job", id)
        }
        return try requeueEnded(job, ctx: ctx)
    }

    /// Runs an ended job again: `available` now, attempt 0, same id, out of the dead-letter
    /// queue; the error history (`errors`) is kept so the console still shows why it ended.
    static func requeueEnded(_ job: JobSnapshot, ctx: WriteContext) throws -> JobSnapshot {
        let retried = try ctx.db.updatedJob(
            """
            UPDATE jobs SET state = 'available', attempt = 0, dead_lettered_at = NULL, completed_at = NULL, discarded_at = NULL,
              cancelled_at = NULL, worker_id = NULL, started_at = NULL, next_attempt_at = NULL, retry_delay_ms = NULL,
              enqueued_at = ?, seq = ?, error = NULL
            WHERE id = ? RETURNING \(JobColumns.list)
            """,
            [.int(ctx.now), .int(ctx.nextSeq()), .text(job.id)]
        )
        try EventLog.record(ctx, type: "job.retried", job: retried, data: [("job_type", .string(job.type)), ("queue", .string(job.queue))])
        return retried
    }

    /// Removes a job from the dead-letter queue for good.
    public func deleteDeadLetter(id: String) async throws {
        try await write { ctx in
            guard try Self.deleteDeadLetterRow(id: id, ctx: ctx) else { throw OJSError.notFound("dead-letter job", id) }
        }
    }

    /// False when `id` is not in the dead-letter queue.
    static func deleteDeadLetterRow(id: String, ctx: WriteContext) throws -> Bool {
        let n = try ctx.db.run("DELETE FROM jobs WHERE id = ? AND \(inDeadLetterQueue)", [.text(id)])
        guard n > 0 else { return false }
        try ctx.db.run("DELETE FROM job_progress WHERE job_id = ?", [.text(id)])
        return true
    }
}
