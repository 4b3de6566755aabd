import Hummingbird
import OJSCore
import OJSStore

extension OJSAPI {
    func addDeadLetterRoutes(_ router: Router<Context>) {
        router.get("/ojs/v1/dead-letter") { request, _ in
            let limit = try request.queryInt("limit", default: 50, range: 1...1000)
            let offset = try request.queryInt("offset", default: 0, range: 0...Int(Int32.max))
            let page = try await store.deadLetters(
                queue: request.queryString("queue"),
                type: request.queryString("type"),
                limit: limit,
                offset: offset
            )
            return JSONResponse.object { w in
                JobRendering.list("jobs", page.jobs, into: &w)
                w.field(
                    "pagination",
                    [
                        "total": .int(page.total), "limit": .int(Int64(limit)), "offset": .int(Int64(offset)),
                        "has_more": .bool(Int64(offset + page.jobs.count) < page.total),
                    ]
                )
            }
        }
        router.post("/ojs/v1/dead-letter/:id/retry") { _, context in
            JobRendering.job(try await store.retryDeadLetter(id: try Self.parameter(context, "id")))
        }
        router.delete("/ojs/v1/dead-letter/:id") { _, context in
            let id = try Self.parameter(context, "id")
            try await store.deleteDeadLetter(id: id)
            return JSONResponse.value(.ok, ["deleted": true, "job_id": .string(id)])
        }
    }
}
