import Hummingbird
import OJSCore
import OJSStore

extension OJSAPI {
    func addQueueRoutes(_ router: Router<Context>) {
        router.get("/ojs/v1/queues") { request, _ in
            let limit = try request.queryInt("limit", default: 100, range: 1...1000)
            let offset = try request.queryInt("offset", default: 0, range: 0...Int(Int32.max))
            let (items, total) = try await store.queues(limit: limit, offset: offset)
            return JSONResponse.object { w in
                w.field(
                    "queues",
                    .array(
                        items.map { q in
                            var o: JSONObject = [
                                "name": .string(q.name), "status": .string(q.paused ? "paused" : "active"), "paused": .bool(q.paused),
                            ]
                            if let c = q.createdAt { o["created_at"] = .string(Timestamp.format(millis: c)) }
                            return .object(o)
                        }
                    )
                )
                w.field(
                    "pagination",
                    [
                        "total": .int(total), "limit": .int(Int64(limit)), "offset": .int(Int64(offset)),
                        "has_more": .bool(Int64(offset + items.count) < total),
                    ]
                )
            }
        }
        router.get("/ojs/v1/queues/:name/stats") { _, context in
            let name = try Self.queueName(context)
            let info = try await store.queue(name)
            return JSONResponse.object { w in
                var queue: JSONObject = ["name": .string(name), "paused": .bool(info.paused), "status": .string(info.paused ? "paused" : "active")]
                var stats: JSONObject = [
                    "queue": .string(name), "depth": .int(info.counts.depth), "max_depth": info.maxDepth.map { .int($0) } ?? .null,
                ]
                for state in JobState.allCases {
                    queue[state.rawValue] = .int(info.counts[state])
                    stats[state.rawValue] = .int(info.counts[state])
                }
                if let oldest = info.oldestAvailableAt { stats["oldest_available_at"] = .string(Timestamp.format(millis: oldest)) }
                w.field("queue", .object(queue))
                w.field("status", info.paused ? "paused" : "active")
                w.field("stats", .object(stats))
            }
        }
        router.post("/ojs/v1/queues/:name/pause") { request, context in
            try await pauseResponse(request, context, paused: true)
        }
        router.post("/ojs/v1/queues/:name/resume") { request, context in
            try await pauseResponse(request, context, paused: false)
        }
    }

    func pauseResponse(_ request: Request, _ context: Context, paused: Bool) async throws -> Response {
        let name = try Self.queueName(context)
        _ = try await JSONBody.read(request, limit: config.maxBodyBytes, emptyIsObject: true)
        let info = try await store.setPaused(name, paused: paused)
        var queue: JSONObject = ["name": .string(name), "paused": .bool(info.paused), "status": .string(info.paused ? "paused" : "active")]
        if let at = info.pausedAt { queue["paused_at"] = .string(Timestamp.format(millis: at)) }
        return JSONResponse.value(.ok, ["queue": .object(queue)])
    }

    static func queueName(_ context: Context) throws -> String {
        let name = try parameter(context, "name")
        guard Names.isValidQueue(name) else {
            throw OJSError.invalid("Invalid queue name '\(name)'.", field: "name")
        }
        return name
    }
}
