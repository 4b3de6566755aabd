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
            guard let job = try await store.job(id: id) else { throw OJSError.notFound("job", id) }
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

    func push(_ request: Request) async throws -> Response {
        let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
        let spec = try JobSpec.parse(body, now: store.clock(), limits: config.limits)
        let outcome = try await store.enqueue(spec)
        var headers = try await rateLimitHeaders(spec)
        switch outcome {
        case .created(let job, let pressure):
            headers[.location] = "/ojs/v1/jobs/\(job.id)"
            if let pressure, pressure.ratio >= pressure.threshold {
                headers[.queuePressure] = String(format: "%.2f", pressure.ratio)
                headers[.queueDepth] = String(pressure.depth)
                headers[.queueBound] = String(pressure.bound)
            }
            return JobRendering.job(job, status: .created, headers: headers)
        case .existing(let job):
            return JobRendering.job(job, headers: headers) { w in w.field("deduplicated", true) }
        }
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
        let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
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
        let jobs = try await store.enqueueBatch(specs)
        return JSONResponse.object(.created) { w in
            JobRendering.list("jobs", jobs, into: &w)
            w.field("count", jobs.count)
        }
    }
}
