import OJSCore

/// The result of one enqueue.
public enum EnqueueOutcome: Sendable {
    /// A new job (201).
    case created(JobSnapshot, warnings: QueuePressure?)
    /// A unique `ignore` hit: the existing job is returned instead (200).
    case existing(JobSnapshot)

    public var job: JobSnapshot {
        switch self {
        case .created(let j, _), .existing(let j): return j
        }
    }
}

/// Where a job comes from when it is not a plain push.
struct JobOrigin {
    var workflowId: String?
    var workflowStep: Int?
    var parentResults: String?
}

extension Store {
    public func enqueue(_ spec: JobSpec) async throws -> EnqueueOutcome {
        let job = PreparedJob(spec)
        return try await write(bytes: job.writeBytes) { ctx in try Self.insert(job, ctx: ctx) }
    }

    /// All-or-nothing: every job is created, or none is (the first failure names its index).
    public func enqueueBatch(_ specs: [JobSpec]) async throws -> [JobSnapshot] {
        let jobs = specs.map(PreparedJob.init)
        return try await write(bytes: PreparedJob.writeBytes(jobs)) { ctx in try Self.insertBatch(jobs, ctx: ctx) }
    }

    static func insertBatch(_ prepared: [PreparedJob], ctx: WriteContext) throws -> [JobSnapshot] {
        // Bound check for the whole batch first, so a batch that would overflow creates nothing.
        var perQueue: [String: Int64] = [:]
        for job in prepared { perQueue[job.spec.queue, default: 0] += 1 }
        for (queue, adding) in perQueue.sorted(by: { $0.key < $1.key }) {
            try checkBackpressure(queue: queue, adding: adding, ctx: ctx)
        }
        var jobs: [JobSnapshot] = []
        jobs.reserveCapacity(prepared.count)
        for (index, job) in prepared.enumerated() {
            do {
                jobs.append(try insert(job, ctx: ctx, checkBound: false).job)
            } catch let error as OJSError {
                throw error.atIndex(index)
            }
        }
        return jobs
    }

    /// Inserts one job inside the writer's transaction: uniqueness, backpressure, queue
    /// bookkeeping, the row, and its `job.enqueued` event.
    static func insert(
        _ job: PreparedJob,
        ctx: WriteContext,
        origin: JobOrigin = JobOrigin(),
        checkBound: Bool = true
    ) throws -> EnqueueOutcome {
        let spec = job.spec
        let db = ctx.db
        let now = ctx.now
        var fingerprint: String?
        if let unique = spec.unique {
            let fp = unique.fingerprint(type: spec.type, queue: spec.queue, args: spec.args, meta: spec.meta)
            fingerprint = fp
            if let existing = try findDuplicate(fingerprint: fp, policy: unique, now: now, db: db) {
                switch unique.onConflict {
                case .reject:
                    throw OJSError(
                        .duplicate,
                        "A job with the same unique key already exists (\(existing.id), state \(existing.state.rawValue)).",
                        details: ["existing_job_id": .string(existing.id), "existing_state": .string(existing.state.rawValue)]
                    )
                case .ignore:
                    return .existing(existing)
                case .replace, .replaceExceptSchedule:
                    if existing.state == .active {
                        throw OJSError(
                            .duplicate,
                            "The job with the same unique key is active and cannot be replaced.",
                            details: ["existing_job_id": .string(existing.id), "existing_state": .string("active")]
                        )
                    }
                    _ = try cancelRow(id: existing.id, ctx: ctx)
                }
            }
        }
        let queueState = try QueueRow.ensure(spec.queue, ctx: ctx)
        var pressure: QueuePressure?
        if checkBound { pressure = try checkBackpressure(queue: spec.queue, adding: 1, ctx: ctx, known: queueState) }
        if let rate = spec.rateLimit { try RateLimits.configure(rate, queue: spec.queue, ctx: ctx) }

        let id = spec.id ?? ctx.newId()
        let state: JobState
        var runAt: Int64?
        var enqueuedAt: Int64?
        var seq: Int64 = 0
        if spec.pending {
            state = .pending
        } else if let at = spec.scheduledAt, at.millis > now {
            state = .scheduled
            runAt = at.millis
        } else {
            state = .available
            enqueuedAt = now
            seq = ctx.nextSeq()
        }
        let values: [SQLValue] = [
            .text(id), .text(spec.type), .text(spec.queue), .text(state.rawValue), .int(Int64(spec.priority)), .int(seq),
            .int(Int64(spec.retry.maxAttempts)), .int(now), SQLValue(enqueuedAt), SQLValue(runAt),
            SQLValue(spec.expiresAt?.millis), SQLValue(spec.timeoutMs), SQLValue(spec.visibilityTimeoutMs),
            SQLValue(fingerprint), SQLValue(spec.rateLimit?.key), SQLValue(origin.workflowId), SQLValue(origin.workflowStep),
            SQLValue(origin.parentResults), .text(job.document),
        ]
        let job: JobSnapshot
        do {
            guard
                let inserted = try db.jobs(
                    """
                    INSERT INTO jobs (id, type, queue, state, priority, seq, max_attempts, created_at, enqueued_at, run_at,
                      expires_at, timeout_ms, visibility_timeout_ms, unique_key, rate_key, workflow_id, workflow_step,
                      parent_results, doc)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    RETURNING \(JobColumns.list)
                    """,
                    values
                ).first
            else { throw OJSError(.backendError, "Insert returned no row.") }
            job = inserted
        } catch let error as SQLiteError where error.isConstraint {
            throw OJSError(.duplicate, "A job with id '\(id)' already exists.", details: ["existing_job_id": .string(id)])
        }
        try EventLog.record(
            ctx,
            type: "job.enqueued",
            job: job,
            data: [("job_id", .string(id)), ("job_type", .string(job.type)), ("queue", .string(job.queue)), ("state", .string(state.rawValue))]
        )
        return .created(job, warnings: pressure)
    }

    /// The newest job with this fingerprint whose state and age make it a duplicate.
    static func findDuplicate(fingerprint: String, policy: UniquePolicy, now: Int64, db: Connection) throws -> JobSnapshot? {
        let placeholders = policy.states.map { _ in "?" }.joined(separator: ",")
        var values: [SQLValue] = [.text(fingerprint)]
        values += policy.states.map { .text($0.rawValue) }
        var sql = "SELECT \(JobColumns.list) FROM jobs WHERE unique_key = ? AND state IN (\(placeholders))"
        if let period = policy.periodMs {
            sql += " AND created_at > ?"
            values.append(.int(now - period))
        }
        sql += " ORDER BY created_at DESC LIMIT 1"
        return try db.jobs(sql, values).first
    }

    /// Rejects an enqueue that would push a bounded queue past `max_depth` (`429 QUEUE_FULL`),
    /// and reports pressure past the warning threshold.
    @discardableResult
    static func checkBackpressure(queue: String, adding: Int64, ctx: WriteContext, known: QueueRow? = nil) throws -> QueuePressure? {
        guard let row = try known ?? QueueRow.load(queue, db: ctx.db), let bound = row.maxDepth, bound > 0 else { return nil }
        let depth = try QueueRow.depth(queue, db: ctx.db)
        let threshold = row.warningThreshold ?? 0.8
        if depth + adding > bound {
            throw OJSError(
                .queueFull,
                "Queue '\(queue)' is full: depth \(depth) of \(bound).",
                details: [
                    "queue": .string(queue), "depth": .int(depth), "bound": .int(bound),
                    "strategy": .string(row.backpressureStrategy ?? "reject"),
                ],
                // The queue drains at the workers' pace; one second is a polite first retry.
                retryAfterSeconds: 1,
                pressure: QueuePressure(depth: depth, bound: bound, threshold: threshold)
            )
        }
        return QueuePressure(depth: depth + adding, bound: bound, threshold: threshold)
    }
}
