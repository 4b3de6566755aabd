import Hummingbird
import OJSCore
import OJSStore

/// The admin extension (`/ojs/v1/admin/*`): flat bodies, `{items, pagination}` lists.
extension OJSAPI {
    func addAdminRoutes(_ router: Router<Context>) {
        router.get("/ojs/v1/admin/stats") { _, _ in
            let stats = try await store.serverStats()
            var jobs = JSONObject()
            for state in JobState.allCases { jobs[state.rawValue] = .int(stats.jobs[state] ?? 0) }
            return JSONResponse.value(
                .ok,
                [
                    "queues": .int(stats.queues), "workers": .int(stats.workers), "jobs": .object(jobs),
                    "throughput": ["processed_per_minute": .int(stats.completedLastMinute), "failed_per_minute": .int(stats.failedLastMinute)],
                    "uptime_seconds": .int(Int64(health.uptimeSeconds)),
                ]
            )
        }
        router.get("/ojs/v1/admin/queues") { request, _ in
            let (page, perPage) = try Self.paging(request)
            let (items, total) = try await store.queues(limit: perPage, offset: (page - 1) * perPage)
            return JSONResponse.value(.ok, ["items": .array(items.map(Self.adminQueue)), "pagination": Self.pagination(total, page, perPage)])
        }
        router.post("/ojs/v1/admin/queues/:name/pause") { _, context in
            Self.flatPause(try await store.setPaused(try Self.queueName(context), paused: true))
        }
        router.post("/ojs/v1/admin/queues/:name/resume") { _, context in
            Self.flatPause(try await store.setPaused(try Self.queueName(context), paused: false))
        }
        router.put("/ojs/v1/admin/queues/:name/config") { request, context in
            let name = try Self.queueName(context)
            let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
            let bp = try Self.backpressure(body)
            let info = try await store.configureBackpressure(name, bp)
            return JSONResponse.value(.ok, ["name": .string(name), "backpressure": Self.backpressureJSON(info)])
        }
        router.get("/ojs/v1/admin/jobs/:id") { _, context in
            let id = try Self.parameter(context, "id")
            guard let job = try await currentJob(id: id) else { throw OJSError.notFound("job", id) }
            return JSONResponse.make(.ok, bytes: Array(job.json.utf8))
        }
        router.get("/ojs/v1/admin/workers") { request, _ in
            let (page, perPage) = try Self.paging(request)
            let (items, total) = try await store.workers(limit: perPage, offset: (page - 1) * perPage)
            let now = store.clock()
            let staleAfter: Int64 = 30_000
            var summary: JSONObject = ["total": .int(total), "running": 0, "quiet": 0, "draining": 0, "stale": 0]
            for w in items {
                let bucket = now - w.lastSeenAt > staleAfter ? "stale" : (w.isDraining ? "draining" : (w.directive == "quiet" ? "quiet" : "running"))
                summary[bucket] = .int((summary[bucket]?.intValue ?? 0) + 1)
            }
            return JSONResponse.value(
                .ok,
                [
                    "items": .array(items.map { Self.workerJSON($0, now: now) }), "summary": .object(summary),
                    "pagination": Self.pagination(total, page, perPage),
                ]
            )
        }
        router.post("/ojs/v1/admin/jobs/bulk/retry") { request, _ in
            let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
            guard body["confirm"]?.boolValue == true else {
                throw OJSError.invalid("Bulk operations need \"confirm\": true.", field: "confirm")
            }
            let filter = body["filter"]?.objectValue ?? JSONObject()
            let state = filter["state"]?.stringValue ?? "discarded"
            guard state == "discarded" || state == "dead_letter" else {
                throw OJSError.invalid("Bulk retry applies to discarded jobs; filter.state must be \"discarded\".", field: "filter.state")
            }
            var since: Int64?
            if let s = filter["since"]?.stringValue {
                guard let ms = Timestamp.parse(s) else {
                    throw OJSError.invalid("filter.since must be an RFC 3339 timestamp.", field: "filter.since")
                }
                since = ms
            }
            let r = try await store.bulkRetry(
                queue: filter["queue"]?.stringValue,
                type: filter["type"]?.stringValue,
                since: since,
                onlyDeadLetter: state == "dead_letter"
            )
            return JSONResponse.value(
                .ok,
                [
                    "action": "retry", "matched": .int(Int64(r.matched)), "succeeded": .int(Int64(r.succeeded)),
                    "failed": .int(Int64(r.errors.count)),
                    "errors": .array(r.errors.map { ["job_id": .string($0.jobId), "error": .string($0.error)] }),
                ]
            )
        }
        addAdminDeadLetterRoutes(router)
        addAdminJobRoutes(router)
        addAdminCronRoutes(router)
        addAdminOverviewRoute(router)
    }

    func addAdminDeadLetterRoutes(_ router: Router<Context>) {
        router.get("/ojs/v1/admin/dead-letter") { request, _ in
            let (page, perPage) = try Self.paging(request)
            var filter = DeadLetterFilter()
            filter.queue = request.queryString("queue")
            filter.type = request.queryString("type")
            filter.errorCode = request.queryString("error_code")
            filter.errorType = request.queryString("error_type")
            let result = try await store.deadLetters(filter, limit: perPage, offset: (page - 1) * perPage)
            return JSONResponse.object { w in
                JobRendering.list("items", result.jobs, into: &w)
                w.field("pagination", Self.pagination(result.total, page, perPage))
            }
        }
        router.get("/ojs/v1/admin/dead-letter/stats") { _, _ in
            let s = try await store.deadLetterStats()
            var o: JSONObject = [
                "total": .int(s.total),
                "by_queue": .object(JSONObject(s.byQueue.map { ($0.0, .int($0.1)) })),
                "by_error_type": .object(JSONObject(s.byErrorType.map { ($0.0, .int($0.1)) })),
            ]
            o["oldest_at"] = s.oldest.map { .string(Timestamp.format(millis: $0)) } ?? .null
            o["newest_at"] = s.newest.map { .string(Timestamp.format(millis: $0)) } ?? .null
            return JSONResponse.value(.ok, .object(o))
        }
        router.post("/ojs/v1/admin/dead-letter/:id/retry") { _, context in
            JobRendering.job(try await store.retryDeadLetter(id: try Self.parameter(context, "id")))
        }
        router.delete("/ojs/v1/admin/dead-letter/:id") { _, context in
            try await store.deleteDeadLetter(id: try Self.parameter(context, "id"))
            return JSONResponse.empty(.noContent)
        }
    }

    static func paging(_ request: Request) throws -> (page: Int, perPage: Int) {
        (try request.queryInt("page", default: 1, range: 1...1_000_000), try request.queryInt("per_page", default: 20, range: 1...100))
    }

    static func pagination(_ total: Int64, _ page: Int, _ perPage: Int) -> JSONValue {
        ["total": .int(total), "page": .int(Int64(page)), "per_page": .int(Int64(perPage))]
    }

    static func adminQueue(_ q: QueueInfo) -> JSONValue {
        var counts = JSONObject()
        for state in JobState.allCases { counts[state.rawValue] = .int(q.counts[state]) }
        var o: JSONObject = [
            "name": .string(q.name), "state": .string(q.paused ? "paused" : "active"), "paused": .bool(q.paused), "counts": .object(counts),
        ]
        o["created_at"] = q.createdAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        o["depth"] = .int(q.counts.depth)
        return .object(o)
    }

    static func flatPause(_ q: QueueInfo) -> Response {
        var o: JSONObject = ["name": .string(q.name), "paused": .bool(q.paused), "state": .string(q.paused ? "paused" : "active")]
        if let at = q.pausedAt { o["paused_at"] = .string(Timestamp.format(millis: at)) }
        return JSONResponse.value(.ok, .object(o))
    }

    static func backpressure(_ body: JSONValue) throws -> BackpressureConfig {
        let bp = body["backpressure"]?.objectValue ?? body.objectValue ?? JSONObject()
        var maxDepth: Int64?
        if let v = bp["max_depth"], !v.isNull {
            guard let n = v.intValue, n >= 0 else {
                throw OJSError.invalid("backpressure.max_depth must be a non-negative integer.", field: "backpressure.max_depth")
            }
            maxDepth = n == 0 ? nil : n
        }
        let strategy = bp["strategy"]?.stringValue ?? "reject"
        guard ["reject", "block", "drop_oldest"].contains(strategy) else {
            throw OJSError.invalid("backpressure.strategy must be reject, block or drop_oldest.", field: "backpressure.strategy")
        }
        var threshold = 0.8
        if let v = bp["warning_threshold"], !v.isNull {
            guard let d = v.doubleValue, d > 0, d <= 1 else {
                throw OJSError.invalid("backpressure.warning_threshold must be a number in (0, 1].", field: "backpressure.warning_threshold")
            }
            threshold = d
        }
        return BackpressureConfig(maxDepth: maxDepth, strategy: strategy, warningThreshold: threshold)
    }

    static func backpressureJSON(_ q: QueueInfo) -> JSONValue {
        [
            "max_depth": q.maxDepth.map { .int($0) } ?? .null, "strategy": .string(q.backpressureStrategy ?? "reject"),
            "warning_threshold": .double(q.warningThreshold ?? 0.8),
        ]
    }

    static func workerJSON(_ w: WorkerSnapshot, now: Int64) -> JSONValue {
        var o: JSONObject = [
            "id": .string(w.id), "worker_id": .string(w.id), "state": .string(w.state), "active_jobs": .int(w.activeJobs),
            "last_heartbeat_at": .string(Timestamp.format(millis: w.lastSeenAt)), "first_seen_at": .string(Timestamp.format(millis: w.firstSeenAt)),
            "stale": .bool(now - w.lastSeenAt > 30_000),
        ]
        o["directive"] = w.directive.map { .string($0) } ?? .null
        return .object(o)
    }
}
