import OJSCore

/// Workers are known by the `worker_id` they send on fetch and heartbeat. The registry
/// records when each was last seen, the state it reported (`drain` stops new work), and any
/// directive an operator set for it.
enum Workers {
    /// Records that the worker is alive; returns its reported state.
    @discardableResult
    static func touch(_ id: String, ctx: WriteContext, reportedState: String? = nil, activeJobs: Int? = nil) throws -> String {
        try ctx.db.first(
            """
            INSERT INTO workers (id, state, first_seen_at, last_seen_at, active_jobs) VALUES (?1, coalesce(?2, 'running'), ?3, ?3, coalesce(?4, 0))
            ON CONFLICT (id) DO UPDATE SET last_seen_at = ?3, state = coalesce(?2, workers.state),
              active_jobs = coalesce(?4, workers.active_jobs)
            RETURNING state
            """,
            [.text(id), SQLValue(reportedState), .int(ctx.now), SQLValue(activeJobs)]
        ) { $0.text(0) } ?? "running"
    }

    static func isDraining(_ state: String) -> Bool {
        state == "drain" || state == "draining" || state == "terminate" || state == "shutting_down"
    }
}

/// The answer to a heartbeat.
public struct HeartbeatResult: Sendable {
    /// `running`, `quiet` or `terminate`.
    public var state: String
    public var extended: [String]
    public var workerState: String
}

extension Store {
    /// Records the beat and extends the reservation of each listed job still active.
    /// `honourTestDirectives` lets a job's `meta.test_directive` pick the answer (test mode only).
    public func heartbeat(_ request: HeartbeatRequest, honourTestDirectives: Bool) async throws -> HeartbeatResult {
        let config = configuration
        return try await write { ctx in
            let workerState = try Workers.touch(
                request.workerId,
                ctx: ctx,
                reportedState: request.reportedState,
                activeJobs: request.activeJobCount
            )
            var extended: [String] = []
            var directive = try ctx.db.first("SELECT directive FROM workers WHERE id = ?", [.text(request.workerId)]) { $0.optText(0) } ?? nil
            for id in request.jobIds {
                var testDirective: String?
                let changed = try ctx.db.first(
                    """
                    UPDATE jobs SET visible_until = ?1 + coalesce(?2, visibility_timeout_ms, ?3)
                    WHERE id = ?4 AND state = 'active' RETURNING json_extract(doc, '$.meta.test_directive')
                    """,
                    [.int(ctx.now), SQLValue(request.visibilityTimeoutMs), .int(config.defaultVisibilityTimeoutMs), .text(id)]
                ) { row -> Bool in
                    testDirective = row.optText(0)
                    return true
                }
                if changed == true { extended.append(id) }
                if honourTestDirectives, directive == nil, let t = testDirective, t == "quiet" || t == "terminate" { directive = t }
            }
            return HeartbeatResult(state: directive ?? "running", extended: extended, workerState: workerState)
        }
    }
}
