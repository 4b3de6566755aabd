import Hummingbird
import OJSCore
import OJSStore

extension OJSAPI {
    func addWorkerRoutes(_ router: Router<Context>) {
        router.post("/ojs/v1/workers/fetch") { request, _ in
            let fetch = try FetchRequest.parse(try await JSONBody.object(request, limit: config.maxBodyBytes), limits: config.limits)
            let jobs = try await store.fetch(fetch)
            tracing?.fetched(jobs, workerId: fetch.workerId)
            return JSONResponse.object { w in
                JobRendering.list("jobs", jobs, into: &w)
                if let first = jobs.first {
                    w.key("job")
                    first.write(into: &w)
                }
            }
        }
        router.post("/ojs/v1/workers/ack") { request, _ in
            let ack = try AckRequest.parse(try await JSONBody.object(request, limit: config.maxBodyBytes))
            let job = try await store.ack(ack)
            metrics.jobOutcome("completed", queue: job.queue)
            return JSONResponse.object { w in
                w.field("acknowledged", true)
                w.field("id", job.id)
                w.field("job_id", job.id)
                w.field("state", job.state.rawValue)
                if let at = job.completedAt { w.field("completed_at", Timestamp.format(millis: at)) }
                w.key("job")
                job.write(into: &w)
            }
        }
        router.post("/ojs/v1/workers/nack") { request, _ in
            let nack = try NackRequest.parse(try await JSONBody.object(request, limit: config.maxBodyBytes))
            let result = try await store.nack(nack)
            let job = result.job
            metrics.jobOutcome("failed", queue: job.queue)
            switch result.outcome {
            case .retry: metrics.jobOutcome("retried", queue: job.queue)
            case .discard: metrics.jobOutcome("discarded", queue: job.queue)
            case .requeue: break
            }
            return JSONResponse.object { w in
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
                ])
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
                ])
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
}
