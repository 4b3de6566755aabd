import Hummingbird
import OJSCore
import OJSStore

extension OJSAPI {
    func addWorkflowRoutes(_ router: Router<Context>) {
        router.post("/ojs/v1/workflows") { request, _ in
            let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
            var definition = try WorkflowDefinition.parse(body, now: store.clock(), limits: config.limits)
            let workflow = try await producing("ojs.workflow.create", request, queue: nil, count: definition.steps.count) { context in
                definition.adoptTraceContext(context)
                return try await store.createWorkflow(definition)
            }
            return Self.render(workflow, status: .created)
        }
        router.get("/ojs/v1/workflows/:id") { _, context in
            let id = try Self.parameter(context, "id")
            guard let workflow = try await store.workflow(id: id) else { throw OJSError.notFound("workflow", id) }
            return Self.render(workflow)
        }
        router.delete("/ojs/v1/workflows/:id") { _, context in
            Self.render(try await store.cancelWorkflow(id: try Self.parameter(context, "id")))
        }
    }

    static func render(_ wf: WorkflowSnapshot, status: HTTPResponse.Status = .ok) -> Response {
        var o: JSONObject = [
            "id": .string(wf.id), "type": .string(wf.kind), "state": .string(wf.state),
            "steps_total": .int(wf.total), "steps_completed": .int(wf.completed), "steps_failed": .int(wf.failed),
            "jobs_total": .int(wf.total), "jobs_completed": .int(wf.completed), "jobs_failed": .int(wf.failed),
            "created_at": .string(Timestamp.format(millis: wf.createdAt)),
        ]
        o["name"] = wf.name.map { .string($0) } ?? .null
        if let callbacks = wf.callbacks { o["callbacks"] = callbacks }
        if let at = wf.finishedAt, wf.state != "cancelled" { o["completed_at"] = .string(Timestamp.format(millis: at)) }
        if let at = wf.cancelledAt {
            o["cancelled_at"] = .string(Timestamp.format(millis: at))
            o["steps_cancelled"] = .int(wf.stepsCancelled)
        }
        o["steps"] = .array(
            wf.steps.map { s in
                var step: JSONObject = ["id": .string(s.key), "type": .string(s.type), "state": .string(s.state)]
                step["job_id"] = s.jobId.map { .string($0) } ?? .null
                if !s.dependsOn.isEmpty { step["depends_on"] = .array(s.dependsOn.map { .string($0) }) }
                return .object(step)
            }
        )
        return JSONResponse.value(status, ["workflow": .object(o)])
    }
}
