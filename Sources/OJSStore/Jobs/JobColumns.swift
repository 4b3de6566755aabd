import OJSCore

/// The columns a job is read with, and the mapping from a row to a `JobSnapshot`. Every
/// query that returns jobs (`SELECT`, `RETURNING`) uses this one list.
enum JobColumns {
    static let list = """
        id, type, queue, state, priority, attempt, max_attempts, created_at, enqueued_at, started_at, completed_at, \
        cancelled_at, discarded_at, next_attempt_at, retry_delay_ms, worker_id, error, errors, result, parent_results, \
        workflow_id, doc
        """

    static func snapshot(_ row: Row) -> JobSnapshot {
        var job = JobSnapshot(
            id: row.text(0),
            type: row.text(1),
            queue: row.text(2),
            state: JobState(rawValue: row.text(3)) ?? .available,
            priority: Int(row.int(4)),
            attempt: Int(row.int(5)),
            maxAttempts: Int(row.int(6)),
            createdAt: row.int(7),
            document: row.text(21)
        )
        job.enqueuedAt = row.optInt(8)
        job.startedAt = row.optInt(9)
        job.completedAt = row.optInt(10)
        job.cancelledAt = row.optInt(11)
        job.discardedAt = row.optInt(12)
        job.nextAttemptAt = row.optInt(13)
        job.retryDelayMs = row.optInt(14)
        job.workerId = row.optText(15)
        job.error = row.optText(16)
        job.errors = row.optText(17)
        job.result = row.optText(18)
        job.parentResults = row.optText(19)
        job.workflowId = row.optText(20)
        return job
    }
}

extension Connection {
    /// One job by id.
    func job(_ id: String) throws -> JobSnapshot? {
        try first("SELECT \(JobColumns.list) FROM jobs WHERE id = ?", [.text(id)], JobColumns.snapshot)
    }

    /// The job an UPDATE … RETURNING just changed; its absence means the row vanished
    /// inside our own transaction, which is a storage fault rather than a client mistake.
    func updatedJob(_ sql: String, _ values: [SQLValue]) throws -> JobSnapshot {
        guard let job = try jobs(sql, values).first else {
            throw StoreError.storage(SQLiteError(code: 0, message: "expected a row to be changed", sql: sql))
        }
        return job
    }

    /// Jobs returned by a statement with `RETURNING <JobColumns.list>` or a SELECT of them.
    func jobs(_ sql: String, _ values: [SQLValue]) throws -> [JobSnapshot] {
        var out: [JobSnapshot] = []
        try query(sql, values) { out.append(JobColumns.snapshot($0)) }
        return out
    }
}
