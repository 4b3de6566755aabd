import Hummingbird
import OJSCore
import OJSStore

/// Progress reports (`PUT/GET /jobs/{id}/progress`; the SDKs' `POST /workers/progress`) and
/// rate-limit inspection.
extension OJSAPI {
    func addProgressRoutes(_ router: Router<Context>) {
        router.put("/ojs/v1/jobs/:id/progress") { request, context in
            let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
            return try await reportProgress(jobId: try Self.parameter(context, "id"), body: body)
        }
        router.post("/ojs/v1/jobs/:id/progress") { request, context in
            let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
            return try await reportProgress(jobId: try Self.parameter(context, "id"), body: body)
        }
        router.post("/ojs/v1/workers/progress") { request, _ in
            let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
            guard let id = body["job_id"]?.stringValue else { throw OJSError.invalid("Missing required field 'job_id'.", field: "job_id") }
            return try await reportProgress(jobId: id, body: body)
        }
        router.get("/ojs/v1/jobs/:id/progress") { _, context in
            Self.progressJSON(try await store.progress(jobId: try Self.parameter(context, "id")), withState: true)
        }
        router.get("/ojs/v1/rate-limits/:key") { _, context in
            let key = try Self.parameter(context, "key")
            guard let s = try await store.rateLimit(key: key) else { throw OJSError.notFound("rate limit", key) }
            var o: JSONObject = ["key": .string(key), "waiting_count": .int(s.waiting)]
            if let c = s.concurrency { o["concurrency"] = ["limit": .int(c), "active": .int(s.active), "available": .int(max(0, c - s.active))] }
            if let r = s.rateLimit {
                o["rate"] = [
                    "limit": .int(r), "period": .string(ISODuration.format(millis: s.ratePeriodMs ?? 1000)), "current_count": .int(s.currentCount),
                    "window_resets_at": s.windowResetsAt.map { .string(Timestamp.format(millis: $0)) } ?? .null,
                ]
            }
            return JSONResponse.value(.ok, .object(o))
        }
    }

    func reportProgress(jobId: String, body: JSONValue) async throws -> Response {
        var progress: Double?
        if let p = body["progress"] ?? body["percent"], !p.isNull {
            guard let d = p.doubleValue else { throw OJSError.invalid("Field 'progress' must be a number between 0 and 1.", field: "progress") }
            progress = body["percent"] != nil && body["progress"] == nil ? d / 100 : d
        }
        var message: String?
        if let m = body["message"], !m.isNull {
            guard let s = m.stringValue else { throw OJSError.invalid("Field 'message' must be a string.", field: "message") }
            message = s
        }
        let data = body["data"].flatMap { $0.isNull ? nil : $0 }
        guard progress != nil || data != nil || message != nil else {
            throw OJSError.invalid("A progress report needs 'progress', 'message' or 'data'.", field: "progress")
        }
        return Self.progressJSON(try await store.reportProgress(jobId: jobId, progress: progress, message: message, data: data), withState: false)
    }

    static func progressJSON(_ p: JobProgress, withState: Bool) -> Response {
        var o: JSONObject = ["job_id": .string(p.jobId)]
        if withState { o["state"] = .string(p.state.rawValue) }
        o["progress"] = p.progress.map { .double($0) } ?? .null
        o["message"] = p.message.map { .string($0) } ?? .null
        o["data"] = p.data.flatMap { try? JSONParser.parse($0) } ?? .null
        o["updated_at"] = p.updatedAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        return JSONResponse.value(.ok, .object(o))
    }
}
