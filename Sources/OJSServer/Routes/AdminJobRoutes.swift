import Hummingbird
import OJSCore
import OJSStore

/// The admin job browser the console reads: a filtered list and a retry of an ended job.
/// (Cancel is the core `DELETE /ojs/v1/jobs/{id}`; one job is `GET /ojs/v1/admin/jobs/{id}`.)
extension OJSAPI {
    func addAdminJobRoutes(_ router: Router<Context>) {
        router.get("/ojs/v1/admin/jobs") { request, _ in
            let (page, perPage) = try Self.paging(request)
            var query = JobListQuery()
            if let state = request.queryString("state") {
                guard let parsed = JobState(rawValue: state) else {
                    let states = JobState.allCases.map(\.rawValue).joined(separator: ", ")
                    throw OJSError.invalid("Query parameter 'state' must be one of \(states).", field: "state")
                }
                query.state = parsed
            }
            query.queue = request.queryString("queue")
            query.type = request.queryString("type")
            query.limit = perPage
            query.offset = (page - 1) * perPage
            let result = try await store.jobList(query)
            return JSONResponse.object { w in
                JobRendering.list("items", result.jobs, into: &w)
                var pagination: JSONObject = ["page": .int(Int64(page)), "per_page": .int(Int64(perPage)), "has_more": .bool(result.hasMore)]
                pagination["total"] = result.total.map { .int($0) } ?? .null
                w.field("pagination", .object(pagination))
            }
        }
        router.post("/ojs/v1/admin/jobs/:id/retry") { _, context in
            JobRendering.job(try await store.retryJob(id: try Self.parameter(context, "id")))
        }
    }
}
