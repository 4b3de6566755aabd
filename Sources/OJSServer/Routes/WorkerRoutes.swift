import Hummingbird
import OJSCore
import OJSStore

extension OJSAPI {
    func addWorkerRoutes(_ router: Router<Context>) {
        router.post("/ojs/v1/workers/fetch") { request, _ in
            try await workerCall(request) { body, claim in
                let fetch = try FetchRequest.parse(body, limits: config.limits)
                let result = try await IdempotentRequest.run(
                    claim,
                    respond: Self.fetchAnswer,
                    plain: { try await store.fetch(fetch) },
                    once: { try await store.fetch(fetch, once: $0, respond: Self.fetchAnswer) }
                )
                if case .performed(let jobs, _) = result { tracing?.fetched(jobs, workerId: fetch.workerId) }
                return result
            }
        }
        router.post("/ojs/v1/workers/ack") { request, _ in
            try await workerCall(request) { body, claim in
                let ack = try AckRequest.parse(body)
                let result = try await IdempotentRequest.run(
                    claim,
                    respond: Self.ackAnswer,
                    plain: { try await store.ack(ack) },
                    once: { try await store.ack(ack, once: $0, respond: Self.ackAnswer) }
                )
                if case .performed(let job, _) = result { metrics.jobOutcome("completed", queue: job.queue) }
                return result
            }
        }
        router.post("/ojs/v1/workers/nack") { request, _ in
            try await workerCall(request) { body, claim in
                let nack = try NackRequest.parse(body)
                let result = try await IdempotentRequest.run(
                    claim,
                    respond: Self.nackAnswer,
                    plain: { try await store.nack(nack) },
                    once: { try await store.nack(nack, once: $0, respond: Self.nackAnswer) }
                )
                if case .performed(let outcome, _) = result { countNack(outcome) }
                return result
            }
        }
        router.post("/ojs/v1/workers/heartbeat") { request, _ in try await heartbeat(request) }
        router.post("/ojs/v1/workers/beat") { request, _ in
            let beat = try HeartbeatRequest.parse(try await JSONBody.object(request, limit: config.maxBodyBytes))
            let worker = try await store.beat(beat)
            return JSONResponse.value(
                .ok,
                [
                    "acknowledged": true, "worker_id": .string(worker.id), "state": .string(worker.state),
                    "directive": .string(worker.directive ?? (worker.isDraining ? "terminate" : "running")),
                    "server_time": .string(Timestamp.format(millis: store.clock())),
                ]
            )
        }
        router.get("/ojs/v1/workers/:id/health") { _, context in
            let id = try Self.parameter(context, "id")
            guard let worker = try await store.worker(id: id) else { throw OJSError.notFound("worker", id) }
            let state = worker.isDraining ? "draining" : worker.state
            return JSONResponse.value(
                worker.isDraining ? .serviceUnavailable : .ok,
                [
                    "worker_id": .string(id), "state": .string(state), "active_jobs": .int(worker.activeJobs),
                    "last_heartbeat_at": .string(Timestamp.format(millis: worker.lastSeenAt)),
                ]
            )
        }
    }

    func heartbeat(_ request: Request) async throws -> Response {
        let beat = try HeartbeatRequest.parse(try await JSONBody.object(request, limit: config.maxBodyBytes))
        let result = try await store.heartbeat(beat, honourTestDirectives: config.testMode)
        return JSONResponse.object { w in
            w.field("state", result.state)
            w.field("directive", result.state)
            w.field("jobs_extended", .array(result.extended.map { .string($0) }))
            w.field("server_time", Timestamp.format(millis: store.clock()))
        }
    }

    /// A worker's fetch, ack or nack: when it carries `Idempotency-Key` (a replica forwards
    /// every one with a key) and the key was answered already, that answer; otherwise `run`
    /// with the body object and the claim. A repeat after a lost answer so gets the first
    /// outcome (`docs/consistency.md`).
    func workerCall<T: Sendable>(
        _ request: Request,
        _ run: (JSONValue, IdempotencyClaim?) async throws -> IdempotentOutcome<T>
    ) async throws -> Response {
        let bytes = try await JSONBody.raw(request, limit: config.maxBodyBytes)
        let claim = try IdempotentRequest.claim(request, body: bytes, windowMs: config.workerReplayWindowMs)
        // A repeat is answered from a reader; the writer checks again for one that races.
        if let claim, let recorded = try await store.recordedResponse(claim) { return IdempotentRequest.response(recorded, replayed: true) }
        switch try await run(try JSONBody.requireObject(try JSONBody.decode(bytes, of: request)), claim) {
        case .replayed(let recorded): return IdempotentRequest.response(recorded, replayed: true)
        case .performed(_, let recorded): return IdempotentRequest.response(recorded, replayed: false)
        }
    }

    func countNack(_ result: NackOutcome) {
        metrics.jobOutcome("failed", queue: result.job.queue)
        switch result.outcome {
        case .retry: metrics.jobOutcome("retried", queue: result.job.queue)
        case .discard: metrics.jobOutcome("discarded", queue: result.job.queue)
        case .requeue: break
        }
    }

    @Sendable static func fetchAnswer(_ jobs: [JobSnapshot]) -> RecordedResponse {
        RecordedResponse.ok { w in
            JobRendering.list("jobs", jobs, into: &w)
            if let first = jobs.first {
                w.key("job")
                first.write(into: &w)
            }
        }
    }

    @Sendable static func ackAnswer(_ job: JobSnapshot) -> RecordedResponse {
        RecordedResponse.ok { w in
            w.field("acknowledged", true)
            w.field("id", job.id)
            w.field("job_id", job.id)
            w.field("state", job.state.rawValue)
            if let at = job.completedAt { w.field("completed_at", Timestamp.format(millis: at)) }
            w.key("job")
            job.write(into: &w)
        }
    }

    @Sendable static func nackAnswer(_ result: NackOutcome) -> RecordedResponse {
        let job = result.job
        return RecordedResponse.ok { w in
            w.field("id", job.id)
            w.field("job_id", job.id)
            w.field("state", job.state.rawValue)
            w.field("attempt", job.attempt)
            w.field("max_attempts", job.maxAttempts)
            switch result.outcome {
            case .retry(let delay, let at):
                w.field("next_attempt_at", Timestamp.format(millis: at))
                w.field("retry_delay_ms", delay)
            case .discard(let deadLetter):
                if let at = job.discardedAt { w.field("discarded_at", Timestamp.format(millis: at)) }
                if let at = job.completedAt { w.field("completed_at", Timestamp.format(millis: at)) }
                w.field("dead_lettered", deadLetter)
            case .requeue:
                break
            }
            w.key("job")
            job.write(into: &w)
        }
    }
}
