import OJSCore

/// Progress a worker reported for a job.
public struct JobProgress: Sendable {
    public var jobId: String
    public var state: JobState
    public var progress: Double?
    public var message: String?
    public var data: String?
    public var updatedAt: Int64?
}

extension Store {
    /// Records progress for an active job: clamped to [0, 1], never decreasing within an
    /// attempt, and it extends the reservation like a heartbeat. For a job that is not
    /// active the report is ignored (the answer shows what is stored).
    public func reportProgress(jobId: String, progress: Double?, message: String?, data: JSONValue?) async throws -> JobProgress {
        let config = configuration
        return try await write { ctx in
            guard let job = try ctx.db.job(jobId) else { throw OJSError.notFound("job", jobId) }
            if job.state == .active {
                let clamped = progress.map { min(1.0, max(0.0, $0)) }
                try ctx.db.run(
                    """
                    INSERT INTO job_progress (job_id, progress, message, data, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                    ON CONFLICT (job_id) DO UPDATE SET progress = max(coalesce(job_progress.progress, 0), coalesce(?2, job_progress.progress)),
                      message = coalesce(?3, job_progress.message), data = coalesce(?4, job_progress.data), updated_at = ?5
                    """,
                    [.text(jobId), clamped.map { .double($0) } ?? .null, SQLValue(message), SQLValue(data.map { $0.jsonText }), .int(ctx.now)]
                )
                try ctx.db.run(
                    "UPDATE jobs SET visible_until = ?1 + coalesce(visibility_timeout_ms, ?2) WHERE id = ?3 AND state = 'active'",
                    [.int(ctx.now), .int(config.defaultVisibilityTimeoutMs), .text(jobId)]
                )
            }
            return try Self.progress(jobId, state: job.state, db: ctx.db)
        }
    }

    public func progress(jobId: String) async throws -> JobProgress {
        try await read { db in
            guard let job = try db.job(jobId) else { throw OJSError.notFound("job", jobId) }
            return try Self.progress(jobId, state: job.state, db: db)
        }
    }

    static func progress(_ jobId: String, state: JobState, db: Connection) throws -> JobProgress {
        try db.first("SELECT progress, message, data, updated_at FROM job_progress WHERE job_id = ?", [.text(jobId)]) {
            JobProgress(jobId: jobId, state: state, progress: $0.optDouble(0), message: $0.optText(1), data: $0.optText(2), updatedAt: $0.optInt(3))
        } ?? JobProgress(jobId: jobId, state: state)
    }
}
