import Hummingbird
import OJSCore
import OJSStore

/// Push delivery (`docs/serverless.md`): binding queues to function URLs under the admin
/// prefix, the receipts log, and late receipts. On a replica the writes are forwarded to the
/// primary like any other; the GETs read the local copy.
extension OJSAPI {
    func addPushRoutes(_ router: Router<Context>) {
        router.get("/ojs/v1/admin/push-endpoints") { _, _ in
            let endpoints = try await store.pushEndpoints()
            return JSONResponse.value(.ok, ["items": .array(endpoints.map { .object($0.json()) })])
        }
        router.get("/ojs/v1/admin/push-endpoints/:name") { _, context in
            let queue = try Self.queueName(context)
            guard let endpoint = try await store.pushEndpoint(queue: queue) else { throw OJSError.notFound("push endpoint", queue) }
            return JSONResponse.value(.ok, .object(endpoint.json()))
        }
        router.put("/ojs/v1/admin/push-endpoints/:name") { request, context in
            let queue = try Self.queueName(context)
            let binding = try PushEndpointConfig.parse(try await JSONBody.object(request, limit: config.maxBodyBytes), queue: queue)
            try await PushTargetGuard(policy: config.pushTargets).checkBinding(binding.url)
            return JSONResponse.value(.ok, .object(try await store.bindPushEndpoint(binding).json()))
        }
        router.delete("/ojs/v1/admin/push-endpoints/:name") { _, context in
            let endpoint = try await store.unbindPushEndpoint(queue: try Self.queueName(context))
            var body = endpoint.json()
            body["deleted"] = true
            return JSONResponse.value(.ok, .object(body))
        }
        router.get("/ojs/v1/admin/push-endpoints/:name/deliveries") { request, context in
            let queue = try Self.queueName(context)
            let limit = try request.queryInt("limit", default: 50, range: 1...1000)
            let items = try await store.pushDeliveries(queue: queue, jobId: request.queryString("job_id"), limit: limit)
            return JSONResponse.value(.ok, ["items": .array(items.map(Self.deliveryJSON))])
        }
        router.post("/ojs/v1/jobs/:id/receipt") { request, context in
            let id = try Self.parameter(context, "id")
            let (deliveryId, outcome) = try Receipt.parseLate(try await JSONBody.object(request, limit: config.maxBodyBytes))
            let settled = try await store.receivePushReceipt(jobId: id, deliveryId: deliveryId, outcome: outcome)
            metrics.pushDelivery("late_" + outcome.label, queue: settled.job?.queue ?? "")
            guard let job = settled.job else { throw OJSError.notFound("job", id) }
            return JobRendering.job(job) { w in
                w.field("delivery_id", deliveryId)
                w.field("receipt", outcome.label)
            }
        }
    }

    static func deliveryJSON(_ d: PushDeliveryRecord) -> JSONValue {
        var o = JSONObject()
        o["delivery_id"] = .string(d.id)
        o["job_id"] = .string(d.jobId)
        o["queue"] = .string(d.queue)
        o["attempt"] = .int(Int64(d.attempt))
        o["started_at"] = .string(Timestamp.format(millis: d.startedAt))
        o["answered_at"] = d.answeredAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        o["settled_at"] = d.settledAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        o["outcome"] = d.outcome.map { .string($0) } ?? "in_flight"
        o["http_status"] = d.httpStatus.map { .int(Int64($0)) } ?? .null
        o["detail"] = d.detail.flatMap { try? JSONParser.parse($0) } ?? .null
        return .object(o)
    }
}
