import OJSCore

/// What an idempotent request (a push, or a worker's fetch, ack or nack) did: ran now (its response is recorded under the key), or found
/// the key already answered and returns that answer.
public enum IdempotentOutcome<Value: Sendable>: Sendable {
    case performed(Value, RecordedResponse)
    case replayed(RecordedResponse)
}

/// The `idempotency_keys` table. Look-up, run and record happen in one writer closure, so
/// concurrent requests with one key are serialized by the writer: the first creates the jobs,
/// every later one sees its row.
enum IdempotencyKeys {
    /// The recorded answer for `claim` while its window lasts; `idempotency_key_mismatch`
    /// when the key was used for a different request.
    static func recorded(_ claim: IdempotencyClaim, now: Int64, db: Connection) throws -> RecordedResponse? {
        let row = try db.first(
            "SELECT fingerprint, status, location, body FROM idempotency_keys WHERE key = ? AND expires_at > ?",
            [.text(claim.key), .int(now)]
        ) { (fingerprint: $0.text(0), response: RecordedResponse(status: Int($0.int(1)), location: $0.optText(2), body: $0.text(3))) }
        guard let row else { return nil }
        guard row.fingerprint == claim.fingerprint else { throw claim.mismatch() }
        return row.response
    }

    /// Records the first answer. An expired row for the key (not purged yet) is replaced.
    static func record(_ claim: IdempotencyClaim, _ response: RecordedResponse, ctx: WriteContext) throws {
        try ctx.db.run(
            """
            INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, status, location, body, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(claim.key), .text(claim.fingerprint), .int(Int64(response.status)), SQLValue(response.location), .text(response.body),
                .int(ctx.now), .int(ctx.now + claim.windowMs),
            ]
        )
    }

    /// Deletes up to `limit` expired keys (oldest first); returns how many.
    static func purgeExpired(_ ctx: WriteContext, limit: Int) throws -> Int {
        try ctx.db.run(
            "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
            [.int(ctx.now), .int(Int64(limit))]
        )
    }
}

extension Store {
    /// The answer already recorded for `claim`, from a reader: lets a repeat be answered
    /// without parsing its body or queueing for the writer. The writer checks again.
    public func recordedResponse(_ claim: IdempotencyClaim) async throws -> RecordedResponse? {
        let now = clock()
        return try await read { db in try IdempotencyKeys.recorded(claim, now: now, db: db) }
    }

    /// Runs `perform` unless `claim`'s key already has an answer, and records `respond`'s
    /// rendering of its result under the key in the same transaction. A result `worthKeeping`
    /// rejects is answered but not recorded: a repeat runs again.
    func writeOnce<T: Sendable>(
        _ claim: IdempotencyClaim,
        bytes: Int,
        perform: @escaping @Sendable (WriteContext) throws -> T,
        respond: @escaping @Sendable (T) -> RecordedResponse,
        worthKeeping: @escaping @Sendable (T) -> Bool = { _ in true }
    ) async throws -> IdempotentOutcome<T> {
        try await write(bytes: bytes) { ctx in
            if let recorded = try IdempotencyKeys.recorded(claim, now: ctx.now, db: ctx.db) { return .replayed(recorded) }
            let value = try perform(ctx)
            let response = respond(value)
            if worthKeeping(value) { try IdempotencyKeys.record(claim, response, ctx: ctx) }
            return .performed(value, response)
        }
    }

    /// `enqueue`, once per idempotency key.
    public func enqueue(
        _ spec: JobSpec,
        once claim: IdempotencyClaim,
        respond: @escaping @Sendable (EnqueueOutcome) -> RecordedResponse
    ) async throws -> IdempotentOutcome<EnqueueOutcome> {
        let job = PreparedJob(spec)
        return try await writeOnce(claim, bytes: job.writeBytes, perform: { ctx in try Self.insert(job, ctx: ctx) }, respond: respond)
    }

    /// `enqueueBatch`, once per idempotency key.
    public func enqueueBatch(
        _ specs: [JobSpec],
        once claim: IdempotencyClaim,
        respond: @escaping @Sendable ([JobSnapshot]) -> RecordedResponse
    ) async throws -> IdempotentOutcome<[JobSnapshot]> {
        let jobs = specs.map(PreparedJob.init)
        return try await writeOnce(
            claim,
            bytes: PreparedJob.writeBytes(jobs),
            perform: { ctx in try Self.insertBatch(jobs, ctx: ctx) },
            respond: respond
        )
    }
}

extension Store {
    /// `fetch`, once per idempotency key: a repeat gets the jobs the first one claimed, and
    /// nothing is claimed twice. A fetch that claimed nothing is not recorded; its repeat
    /// simply fetches again, which loses nothing.
    public func fetch(
        _ request: FetchRequest,
        once claim: IdempotencyClaim,
        respond: @escaping @Sendable ([JobSnapshot]) -> RecordedResponse
    ) async throws -> IdempotentOutcome<[JobSnapshot]> {
        let config = configuration
        return try await writeOnce(
            claim,
            bytes: 0,
            perform: { ctx in try Self.claim(request, ctx: ctx, config: config) },
            respond: respond,
            worthKeeping: { !$0.isEmpty }
        )
    }

    /// `ack`, once per idempotency key: a repeat gets the first answer instead of a conflict.
    public func ack(
        _ request: AckRequest,
        once claim: IdempotencyClaim,
        respond: @escaping @Sendable (JobSnapshot) -> RecordedResponse
    ) async throws -> IdempotentOutcome<JobSnapshot> {
        try await writeOnce(
            claim,
            bytes: request.result.map { $0.jsonText.utf8.count } ?? 0,
            perform: { ctx in try Self.acknowledge(request, ctx: ctx) },
            respond: respond
        )
    }

    /// `nack`, once per idempotency key: a repeat does not count a second failed attempt.
    public func nack(
        _ request: NackRequest,
        once claim: IdempotencyClaim,
        respond: @escaping @Sendable (NackOutcome) -> RecordedResponse
    ) async throws -> IdempotentOutcome<NackOutcome> {
        let config = configuration
        return try await writeOnce(claim, bytes: 0, perform: { ctx in try Self.failActive(request, ctx: ctx, config: config) }, respond: respond)
    }
}
