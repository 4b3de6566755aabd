import Foundation
import Hummingbird
import OJSCore
import OJSStore

extension OJSAPI {
    func addJobRoutes(_ router: Router<Context>) {
        router.post("/ojs/v1/jobs") { request, _ in try await push(request) }
        router.post("/ojs/v1/jobs/batch") { request, _ in try await pushBatch(request) }
        router.get("/ojs/v1/jobs/:id") { _, context in
            let id = try Self.parameter(context, "id")
            guard let job = try await currentJob(id: id) else { throw OJSError.notFound("job", id) }
            return JobRendering.job(job)
        }
        router.delete("/ojs/v1/jobs/:id") { _, context in
            JobRendering.job(try await store.cancel(id: try Self.parameter(context, "id")))
        }
        router.post("/ojs/v1/jobs/:id/activate") { _, context in
            let job = try await store.activate(id: try Self.parameter(context, "id"))
            return JobRendering.job(job) { w in
                w.field("activated_at", Timestamp.format(millis: job.enqueuedAt ?? job.createdAt))
                w.field("previous_state", "pending")
            }
        }
    }

    /// The job as a GET shows it. In serverless mode no ticker moves a due job along, so a
    /// job with a transition due (promotion, expiry, lapsed reservation, timeout) has it
    /// applied first: a client polling a job sees what the ticker would have shown it.
    func currentJob(id: String) async throws -> JobSnapshot? {
        guard let job = try await store.job(id: id) else { return nil }
        guard config.serverless, case .primary = role, !job.state.isTerminal else { return job }
        return try await store.applyDueTransitions(forJob: id) ? try await store.job(id: id) : job
    }

    func push(_ request: Request) async throws -> Response {
        let bytes = try await JSONBody.raw(request, limit: config.maxBodyBytes)
        let claim = try IdempotentRequest.claim(request, body: bytes, windowMs: config.idempotencyWindowMs)
        // A repeat is answered from a reader without parsing; the writer checks again for
        // repeats that race the first request.
        if let claim, let recorded = try await store.recordedResponse(claim) { return IdempotentRequest.response(recorded, replayed: true) }
        var spec = try JobSpec.parse(try JSONBody.requireObject(try JSONBody.decode(bytes, of: request)), now: store.clock(), limits: config.limits)
        let result = try await producing("ojs.job.enqueue", request, queue: spec.queue, count: 1) { context in
            TraceContextMeta.adopt(context, into: &spec.meta)
            let spec = spec
            return try await IdempotentRequest.run(
                claim,
                respond: Self.pushAnswer,
                plain: { try await store.enqueue(spec) },
                once: { try await store.enqueue(spec, once: $0, respond: Self.pushAnswer) }
            )
        }
        switch result {
        case .replayed(let recorded):
            return IdempotentRequest.response(recorded, replayed: true)
        case .performed(let outcome, let recorded):
            var headers = try await rateLimitHeaders(spec)
            if case .created(_, let pressure?) = outcome { headers.append(contentsOf: pressure.warningFields) }
            return IdempotentRequest.response(recorded, replayed: false, headers: headers)
        }
    }

    /// The push's answer: 201 with the new job, or 200 with the existing one for a unique
    /// `ignore` hit.
    @Sendable static func pushAnswer(_ outcome: EnqueueOutcome) -> RecordedResponse {
        var w = JSONWriter()
        w.beginObject()
        w.key("job")
        outcome.job.write(into: &w)
        switch outcome {
        case .created(let job, _):
            w.endObject()
            return RecordedResponse(status: 201, location: "/ojs/v1/jobs/\(job.id)", body: w.string)
        case .existing:
            w.field("deduplicated", true)
            w.endObject()
            return RecordedResponse(status: 200, body: w.string)
        }
    }

    /// Runs a request that creates jobs in a producer span when tracing is on; `body` gets
    /// the trace context to store in the jobs' meta. With tracing off that is the client's
    /// own `traceparent`, so workers still join the producer's trace.
    func producing<T: Sendable>(
        _ name: String,
        _ request: Request,
        queue: String?,
        count: Int,
        _ body: ([String: String]) async throws -> T
    ) async throws -> T {
        guard let tracing else { return try await body(TraceContext.headers(of: request.headers)) }
        return try await tracing.produce(name, queue: queue, count: count, body)
    }

    /// `X-RateLimit-*` for a job that names a keyed rate-limit partition: the partition's
    /// limit, what is left in its window, and when the window resets (Unix seconds).
    func rateLimitHeaders(_ spec: JobSpec) async throws -> HTTPFields {
        guard let key = spec.rateLimit?.key, let s = try await store.rateLimit(key: key) else { return [:] }
        var headers = HTTPFields()
        if let limit = s.rateLimit {
            headers[.rateLimitLimit] = String(limit)
            headers[.rateLimitRemaining] = String(max(0, limit - s.currentCount))
            headers[.rateLimitReset] = String((s.windowResetsAt ?? store.clock()) / 1000)
        } else if let c = s.concurrency {
            headers[.rateLimitLimit] = String(c)
            headers[.rateLimitRemaining] = String(max(0, c - s.active))
            headers[.rateLimitReset] = String(store.clock() / 1000)
        }
        return headers
    }

    func pushBatch(_ request: Request) async throws -> Response {
        let bytes = try await JSONBody.raw(request, limit: config.maxBodyBytes)
        let claim = try IdempotentRequest.claim(request, body: bytes, windowMs: config.idempotencyWindowMs)
        if let claim, let recorded = try await store.recordedResponse(claim) { return IdempotentRequest.response(recorded, replayed: true) }
        let body = try JSONBody.requireObject(try JSONBody.decode(bytes, of: request))
        guard let list = body["jobs"]?.arrayValue else {
            throw OJSError.invalid("Field 'jobs' must be an array of jobs.", field: "jobs")
        }
        guard !list.isEmpty else { throw OJSError.invalid("Field 'jobs' must contain at least one job.", field: "jobs") }
        try config.limits.checkBatch(count: list.count)
        let now = store.clock()
        var specs: [JobSpec] = []
        specs.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            do {
                specs.append(try JobSpec.parse(item, now: now, limits: config.limits))
            } catch {
                throw error.atIndex(index)
            }
        }
        let queues = Set(specs.map(\.queue))
        let result = try await producing("ojs.job.enqueue", request, queue: queues.count == 1 ? queues.first : nil, count: specs.count) { context in
            for i in specs.indices { TraceContextMeta.adopt(context, into: &specs[i].meta) }
            let specs = specs
            return try await IdempotentRequest.run(
                claim,
                respond: Self.batchAnswer,
                plain: { try await store.enqueueBatch(specs) },
                once: { try await store.enqueueBatch(specs, once: $0, respond: Self.batchAnswer) }
            )
        }
        switch result {
        case .replayed(let recorded): return IdempotentRequest.response(recorded, replayed: true)
        case .performed(_, let recorded): return IdempotentRequest.response(recorded, replayed: false)
        }
    }

    @Sendable static func batchAnswer(_ jobs: [JobSnapshot]) -> RecordedResponse {
        var w = JSONWriter()
        w.beginObject()
        JobRendering.list("jobs", jobs, into: &w)
        w.field("count", jobs.count)
        w.endObject()
        return RecordedResponse(status: 201, body: w.string)
    }
}
