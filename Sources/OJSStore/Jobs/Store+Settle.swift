import OJSCore

/// What a NACK did to the job.
public struct NackOutcome: Sendable {
    public var job: JobSnapshot
    public var outcome: FailureOutcome
}

extension Store {
    /// ACK: `active → completed`, result stored, workflow advanced in the same transaction.
    public func ack(_ request: AckRequest) async throws -> JobSnapshot {
        try await write(bytes: request.result.map { $0.jsonText.utf8.count } ?? 0) { ctx in try Self.acknowledge(request, ctx: ctx) }
    }

    static func acknowledge(_ request: AckRequest, ctx: WriteContext) throws -> JobSnapshot {
        let current = try activeJob(request.jobId, workerId: request.workerId, operation: "acknowledge", db: ctx.db)
        return try complete(current, result: request.result, ctx: ctx)
    }

    /// Completes an active job: stores the result, records the event, advances its workflow.
    /// Shared by ACK and push receipts.
    static func complete(_ current: JobSnapshot, result: JSONValue?, ctx: WriteContext) throws -> JobSnapshot {
        let job = try ctx.db.updatedJob(
            """
            UPDATE jobs SET state = 'completed', completed_at = ?, result = ?, error = NULL, visible_until = NULL,
              timeout_at = NULL, next_attempt_at = NULL
            WHERE id = ? AND state = 'active' RETURNING \(JobColumns.list)
            """,
            [.int(ctx.now), SQLValue(result.map { $0.jsonText }), .text(current.id)]
        )
        try ctx.db.run(
            "UPDATE job_progress SET progress = 1.0, updated_at = ? WHERE job_id = ?",
            [.int(ctx.now), .text(job.id)]
        )
        try EventLog.record(
            ctx,
            type: "job.completed",
            job: job,
            data: [
                ("job_type", .string(job.type)), ("queue", .string(job.queue)),
                ("duration_ms", .int(ctx.now - (current.startedAt ?? ctx.now))), ("attempt", .int(Int64(job.attempt))),
            ]
        )
        try Workflows.jobSettled(job, ctx: ctx)
        return job
    }

    /// NACK: the retry policy decides between `available` (requeue), `retryable` and `discarded`.
    public func nack(_ request: NackRequest) async throws -> NackOutcome {
        let config = configuration
        return try await write { ctx in try Self.failActive(request, ctx: ctx, config: config) }
    }

    static func failActive(_ request: NackRequest, ctx: WriteContext, config: StoreConfiguration) throws -> NackOutcome {
        let current = try activeJob(request.jobId, workerId: request.workerId, operation: "fail", db: ctx.db)
        return try fail(current, failure: request.failure, requeue: request.requeue, ctx: ctx, config: config)
    }

    /// Applies a failure to an active job: records the error, then moves it as the retry
    /// policy says. Shared by NACK and the execution-timeout reaper.
    static func fail(
        _ job: JobSnapshot,
        failure: JobFailure,
        requeue: Bool,
        ctx: WriteContext,
        config: StoreConfiguration
    ) throws -> NackOutcome {
        let document = job.parsedDocument()
        let policy = (try? RetryPolicy.parse(document["retry"])) ?? RetryPolicy()
        let outcome = FailureOutcome.decide(
            policy: policy,
            attempt: job.attempt,
            failure: failure,
            requeue: requeue,
            now: ctx.now,
            unit: ctx.randomUnit()
        )
        let record = failure.record(attempt: job.attempt, occurredAt: ctx.now)
        let errors = appendError(record, to: job.errors, keep: config.maxErrorHistory)
        let common = "error = ?, errors = ?, visible_until = NULL, timeout_at = NULL"
        let updated: JobSnapshot
        switch outcome {
        case .requeue:
            updated = try ctx.db.updatedJob(
                """
                UPDATE jobs SET state = 'available', \(common), worker_id = NULL, seq = ?, enqueued_at = ?
                WHERE id = ? RETURNING \(JobColumns.list)
                """,
                [.text(record.jsonText), .text(errors), .int(ctx.nextSeq()), .int(ctx.now), .text(job.id)]
            )
        case .retry(let delay, let at):
            updated = try ctx.db.updatedJob(
                """
                UPDATE jobs SET state = 'retryable', \(common), worker_id = NULL, run_at = ?, next_attempt_at = ?,
                  retry_delay_ms = ?
                WHERE id = ? RETURNING \(JobColumns.list)
                """,
                [.text(record.jsonText), .text(errors), .int(at), .int(at), .int(delay), .text(job.id)]
            )
            try EventLog.record(
                ctx,
                type: "job.retrying",
                job: updated,
                data: [
                    ("job_type", .string(job.type)), ("queue", .string(job.queue)), ("attempt", .int(Int64(job.attempt))),
                    ("delay_ms", .int(delay)), ("next_attempt_at", .string(Timestamp.format(millis: at))),
                ]
            )
        case .discard(let deadLetter):
            updated = try ctx.db.updatedJob(
                """
                UPDATE jobs SET state = 'discarded', \(common), completed_at = ?, discarded_at = ?, dead_lettered_at = ?
                WHERE id = ? RETURNING \(JobColumns.list)
                """,
                [.text(record.jsonText), .text(errors), .int(ctx.now), .int(ctx.now), deadLetter ? .int(ctx.now) : .null, .text(job.id)]
            )
            try EventLog.record(
                ctx,
                type: "job.discarded",
                job: updated,
                data: [
                    ("job_type", .string(job.type)), ("queue", .string(job.queue)), ("total_attempts", .int(Int64(job.attempt))),
                    ("last_error", record), ("dead_letter", .bool(deadLetter)),
                ]
            )
        }
        try EventLog.record(
            ctx,
            type: "job.failed",
            job: updated,
            data: [("job_type", .string(job.type)), ("queue", .string(job.queue)), ("attempt", .int(Int64(job.attempt))), ("error", record)]
        )
        if case .discard = outcome { try Workflows.jobSettled(updated, ctx: ctx) }
        return NackOutcome(job: updated, outcome: outcome)
    }

    static func appendError(_ record: JSONValue, to existing: String?, keep: Int) -> String {
        var list = existing.flatMap { try? JSONParser.parse($0) }?.arrayValue ?? []
        list.append(record)
        if list.count > keep { list.removeFirst(list.count - keep) }
        return JSONValue.array(list).jsonText
    }

    /// The job if it is `active` (and held by `workerId` when both sides name a worker);
    /// otherwise 404 or 409.
    static func activeJob(_ id: String, workerId: String?, operation: String, db: Connection) throws -> JobSnapshot {
        guard let job = try db.job(id) else { throw OJSError.notFound("job", id) }
        guard job.state == .active else {
            throw OJSError.conflict(
                "Cannot \(operation) job '\(id)': it is \(job.state.rawValue), not active.",
                currentState: job.state.rawValue
            )
        }
        if let workerId, let holder = job.workerId, workerId != holder {
            throw OJSError.conflict("Job '\(id)' is held by worker '\(holder)', not '\(workerId)'.", currentState: "active")
        }
        return job
    }

    /// Cancels a job that has not finished (404 unknown, 409 terminal).
    public func cancel(id: String) async throws -> JobSnapshot {
        try await write { ctx in
            guard let job = try ctx.db.job(id) else { throw OJSError.notFound("job", id) }
            guard !job.state.isTerminal else {
                throw OJSError.conflict("Cannot cancel job '\(id)': it is already \(job.state.rawValue).", currentState: job.state.rawValue)
            }
            guard let cancelled = try Self.cancelRow(id: id, ctx: ctx) else {
                throw OJSError.conflict("Cannot cancel job '\(id)'.", currentState: job.state.rawValue)
            }
            try Workflows.jobSettled(cancelled, ctx: ctx)
            return cancelled
        }
    }

    /// Moves a non-terminal job to `cancelled`; nil when it was not cancellable.
    static func cancelRow(id: String, ctx: WriteContext) throws -> JobSnapshot? {
        guard
            let job = try ctx.db.jobs(
                """
                UPDATE jobs SET state = 'cancelled', cancelled_at = ?, visible_until = NULL, timeout_at = NULL
                WHERE id = ? AND state IN ('scheduled','available','pending','active','retryable')
                RETURNING \(JobColumns.list)
                """,
                [.int(ctx.now), .text(id)]
            ).first
        else { return nil }
        try EventLog.record(ctx, type: "job.cancelled", job: job, data: [("job_type", .string(job.type)), ("queue", .string(job.queue))])
        return job
    }

    /// `pending → available`.
    public func activate(id: String) async throws -> JobSnapshot {
        try await write { ctx in
            guard let job = try ctx.db.job(id) else { throw OJSError.notFound("job", id) }
            guard job.state == .pending else {
                throw OJSError.conflict("Cannot activate job '\(id)': it is \(job.state.rawValue), not pending.", currentState: job.state.rawValue)
            }
            return try ctx.db.updatedJob(
                "UPDATE jobs SET state = 'available', enqueued_at = ?, seq = ? WHERE id = ? RETURNING \(JobColumns.list)",
                [.int(ctx.now), .int(ctx.nextSeq()), .text(id)]
            )
        }
    }
}
