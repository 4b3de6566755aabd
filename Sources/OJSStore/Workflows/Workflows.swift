import OJSCore

/// Workflow advancement, run whenever one of a workflow's jobs reaches a terminal state,
/// inside the same writer transaction as the ack, nack or cancel that ended it: by the time
/// that request is answered, the next chain step (or the batch callback) already exists.
enum Workflows {
    struct Row {
        var id: String
        var kind: WorkflowDefinition.Kind
        var state: String
        var steps: [JSONValue]
        var callbacks: JSONObject?
        var callbacksFired: Bool

        var plan: WorkflowPlan {
            WorkflowPlan(dependencies: steps.map { ($0["depends_on"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int.init) } })
        }
    }

    static func load(_ id: String, db: Connection) throws -> Row? {
        try db.first("SELECT id, type, state, steps, callbacks, callbacks_fired FROM workflows WHERE id = ?", [.text(id)]) { r in
            Row(
                id: r.text(0),
                kind: WorkflowDefinition.Kind(rawValue: r.text(1)) ?? .group,
                state: r.text(2),
                steps: (try? JSONParser.parse(r.text(3)))?.arrayValue ?? [],
                callbacks: r.optText(4).flatMap { try? JSONParser.parse($0) }?.objectValue,
                callbacksFired: r.int(5) != 0
            )
        }
    }

    /// Creates the workflow and enqueues its first steps.
    static func create(_ definition: WorkflowDefinition, ctx: WriteContext) throws -> String {
        let id = ctx.newId()
        try ctx.db.run(
            """
            INSERT INTO workflows (id, type, name, state, total, steps, callbacks, created_at, doc)
            VALUES (?, ?, ?, 'running', ?, ?, ?, ?, '{}')
            """,
            [
                .text(id), .text(definition.kind.rawValue), SQLValue(definition.name), .int(Int64(definition.steps.count)),
                .text(definition.stepsJSON.jsonText), SQLValue(definition.callbacksJSON?.jsonText), .int(ctx.now),
            ]
        )
        try EventLog.record(
            ctx,
            type: "workflow.started",
            subject: id,
            queue: nil,
            jobType: nil,
            data: [("workflow_id", .string(id)), ("type", .string(definition.kind.rawValue))]
        )
        guard let row = try load(id, db: ctx.db) else { return id }
        try advance(row, ctx: ctx)
        return id
    }

    static func jobSettled(_ job: JobSnapshot, ctx: WriteContext) throws {
        guard let workflowId = job.workflowId, let row = try load(workflowId, db: ctx.db), row.state == "running" else { return }
        let isStep = try ctx.db.scalar("SELECT workflow_step IS NOT NULL FROM jobs WHERE id = ?", [.text(job.id)]) != 0
        guard isStep else { return }  // a callback job finishing does not move the workflow
        try ctx.db.run(
            job.state == .completed
                ? "UPDATE workflows SET completed = completed + 1 WHERE id = ?"
                : "UPDATE workflows SET failed = failed + 1 WHERE id = ?",
            [.text(workflowId)]
        )
        if job.state == .completed {
            try EventLog.record(
                ctx,
                type: "workflow.step_completed",
                subject: workflowId,
                queue: job.queue,
                jobType: job.type,
                data: [("workflow_id", .string(workflowId)), ("job_id", .string(job.id))]
            )
        }
        try advance(row, ctx: ctx)
    }

    /// The status of every step, and each finished step's result.
    static func stepStatus(_ row: Row, db: Connection) throws -> (status: [WorkflowPlan.StepStatus], results: [Int: String]) {
        var status = [WorkflowPlan.StepStatus](repeating: .waiting, count: row.steps.count)
        var results: [Int: String] = [:]
        try db.query(
            "SELECT workflow_step, state, result FROM jobs WHERE workflow_id = ? AND workflow_step IS NOT NULL",
            [.text(row.id)]
        ) { r in
            let i = Int(r.int(0))
            guard status.indices.contains(i) else { return }
            switch JobState(rawValue: r.text(1)) {
            case .completed:
                status[i] = .succeeded
                results[i] = r.optText(2)
            case .discarded, .cancelled: status[i] = .failed
            default: status[i] = .running
            }
        }
        return (status, results)
    }

    /// Enqueues every step whose dependencies succeeded; finishes the workflow (and fires
    /// batch callbacks, exactly once) when nothing is left to run.
    static func advance(_ row: Row, ctx: WriteContext) throws {
        let plan = row.plan
        var (status, results) = try stepStatus(row, db: ctx.db)
        var decision = plan.decide(status)
        while !decision.ready.isEmpty {
            for i in decision.ready {
                let parents = plan.ancestors(of: i).map { results[$0] ?? "null" }
                let enqueued = try enqueueStep(
                    row,
                    index: i,
                    parentResults: parents.isEmpty ? nil : "[" + parents.joined(separator: ",") + "]",
                    ctx: ctx
                )
                status[i] = enqueued ? .running : .failed
            }
            decision = plan.decide(status)
        }
        guard decision.finished else { return }
        if row.kind == .batch, !row.callbacksFired {
            try fireCallbacks(row, failed: decision.failed, results: (0..<row.steps.count).map { results[$0] ?? "null" }, ctx: ctx)
        }
        let state = decision.failed ? "failed" : "completed"
        try ctx.db.run("UPDATE workflows SET state = ?, finished_at = ? WHERE id = ?", [.text(state), .int(ctx.now), .text(row.id)])
        try EventLog.record(
            ctx,
            type: "workflow.\(state)",
            subject: row.id,
            queue: nil,
            jobType: nil,
            data: [("workflow_id", .string(row.id))]
        )
    }

    /// False when the step's job could not be created (its request no longer validates, or
    /// a unique key rejects it): the step counts as failed rather than failing the ack.
    static func enqueueStep(_ row: Row, index: Int, parentResults: String?, ctx: WriteContext) throws -> Bool {
        guard let request = row.steps[index]["job"] else { return false }
        do {
            let spec = try JobSpec.parse(request, now: ctx.now, limits: .unbounded)
            _ = try Store.insert(
                PreparedJob(spec),
                ctx: ctx,
                origin: JobOrigin(workflowId: row.id, workflowStep: index, parentResults: parentResults),
                checkBound: false
            )
            return true
        } catch let error as OJSError {
            try EventLog.record(
                ctx,
                type: "workflow.step_failed",
                subject: row.id,
                queue: nil,
                jobType: nil,
                data: [("workflow_id", .string(row.id)), ("step", .int(Int64(index))), ("error", .string(error.message))]
            )
            try ctx.db.run("UPDATE workflows SET failed = failed + 1 WHERE id = ?", [.text(row.id)])
            return false
        }
    }

    static func fireCallbacks(_ row: Row, failed: Bool, results: [String], ctx: WriteContext) throws {
        try ctx.db.run("UPDATE workflows SET callbacks_fired = 1 WHERE id = ?", [.text(row.id)])
        let parentResults = "[" + results.joined(separator: ",") + "]"
        for name in WorkflowDefinition.callbackNames {
            let due = name == "on_complete" || (name == "on_success" && !failed) || (name == "on_failure" && failed)
            guard due, let request = row.callbacks?[name] else { continue }
            do {
                let spec = try JobSpec.parse(request, now: ctx.now, limits: .unbounded)
                _ = try Store.insert(
                    PreparedJob(spec),
                    ctx: ctx,
                    origin: JobOrigin(workflowId: row.id, workflowStep: nil, parentResults: parentResults),
                    checkBound: false
                )
            } catch let error as OJSError {
                try EventLog.record(
                    ctx,
                    type: "workflow.callback_failed",
                    subject: row.id,
                    queue: nil,
                    jobType: nil,
                    data: [("workflow_id", .string(row.id)), ("callback", .string(name)), ("error", .string(error.message))]
                )
            }
        }
    }
}
