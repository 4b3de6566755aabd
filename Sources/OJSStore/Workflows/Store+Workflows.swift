import OJSCore

/// A workflow as the API shows it.
public struct WorkflowSnapshot: Sendable {
    public struct Step: Sendable {
        public var key: String
        public var type: String
        public var state: String
        public var jobId: String?
        public var dependsOn: [String]
    }

    public var id: String
    public var kind: String
    public var name: String?
    public var state: String
    public var total: Int64
    public var completed: Int64
    public var failed: Int64
    public var callbacks: JSONValue?
    public var createdAt: Int64
    public var finishedAt: Int64?
    public var cancelledAt: Int64?
    public var steps: [Step]
    public var stepsCancelled: Int64 = 0
}

extension Store {
    public func createWorkflow(_ definition: WorkflowDefinition) async throws -> WorkflowSnapshot {
        try await write { ctx in
            let id = try Workflows.create(definition, ctx: ctx)
            guard let snapshot = try Self.workflow(id, db: ctx.db) else { throw OJSError.notFound("workflow", id) }
            return snapshot
        }
    }

    public func workflow(id: String) async throws -> WorkflowSnapshot? {
        try await read { db in try Self.workflow(id, db: db) }
    }

    /// Cancels every unfinished job of the workflow; no further step is enqueued.
    public func cancelWorkflow(id: String) async throws -> WorkflowSnapshot {
        try await write { ctx in
            guard let row = try Workflows.load(id, db: ctx.db) else { throw OJSError.notFound("workflow", id) }
            guard row.state == "running" else {
                throw OJSError.conflict("Workflow '\(id)' is already \(row.state).", currentState: row.state)
            }
            // Mark first, so the cancellations below do not advance it.
            try ctx.db.run(
                "UPDATE workflows SET state = 'cancelled', cancelled_at = ?, finished_at = ? WHERE id = ?",
                [.int(ctx.now), .int(ctx.now), .text(id)]
            )
            var ids: [String] = []
            try ctx.db.query(
                "SELECT id FROM jobs WHERE workflow_id = ? AND state IN ('scheduled','available','pending','active','retryable')",
                [.text(id)]
            ) { ids.append($0.text(0)) }
            for jobId in ids { _ = try Self.cancelRow(id: jobId, ctx: ctx) }
            try ctx.db.run("UPDATE workflows SET cancelled = ? WHERE id = ?", [.int(Int64(ids.count)), .text(id)])
            try EventLog.record(ctx, type: "workflow.cancelled", subject: id, queue: nil, jobType: nil, data: [("workflow_id", .string(id))])
            guard var snapshot = try Self.workflow(id, db: ctx.db) else { throw OJSError.notFound("workflow", id) }
            snapshot.stepsCancelled = Int64(ids.count)
            return snapshot
        }
    }

    static func workflow(_ id: String, db: Connection) throws -> WorkflowSnapshot? {
        guard
            var snapshot = try db.first(
                "SELECT id, type, name, state, total, completed, failed, callbacks, "
                    + "created_at, finished_at, cancelled_at, cancelled FROM workflows WHERE id = ?",
                [.text(id)],
                { r in
                    WorkflowSnapshot(
                        id: r.text(0),
                        kind: r.text(1),
                        name: r.optText(2),
                        state: r.text(3),
                        total: r.int(4),
                        completed: r.int(5),
                        failed: r.int(6),
                        callbacks: r.optText(7).flatMap { try? JSONParser.parse($0) },
                        createdAt: r.int(8),
                        finishedAt: r.optInt(9),
                        cancelledAt: r.optInt(10),
                        steps: [],
                        stepsCancelled: r.int(11)
                    )
                }
            )
        else { return nil }
        guard let row = try Workflows.load(id, db: db) else { return snapshot }
        var jobs: [Int: (String, String)] = [:]
        try db.query("SELECT workflow_step, id, state FROM jobs WHERE workflow_id = ? AND workflow_step IS NOT NULL", [.text(id)]) {
            jobs[Int($0.int(0))] = ($0.text(1), $0.text(2))
        }
        let finished = snapshot.state != "running"
        snapshot.steps = row.steps.enumerated().map { i, step in
            let deps = (step["depends_on"]?.arrayValue ?? []).compactMap { $0.intValue }.map { row.steps[Int($0)]["key"]?.stringValue ?? String($0) }
            let job = jobs[i]
            return WorkflowSnapshot.Step(
                key: step["key"]?.stringValue ?? String(i),
                type: step["type"]?.stringValue ?? "",
                state: job?.1 ?? (finished ? "cancelled" : "waiting"),
                jobId: job?.0,
                dependsOn: deps
            )
        }
        return snapshot
    }
}
