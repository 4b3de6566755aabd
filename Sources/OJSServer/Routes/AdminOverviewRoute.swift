import Hummingbird
import OJSCore
import OJSStore

/// `GET /ojs/v1/admin/overview[?after=evt_N]`: everything the console's overview shows, in
/// one request. The old dashboard made 3 + one per queue requests a second for less; this
/// makes one (see "Console cost" in `docs/benchmarks.md`).
///
///     GET /ojs/v1/admin/overview?after=evt_1200
///     {"time": "…", "node": {"role": "primary"}, "jobs": {"available": 3, …},
///      "throughput": {"after": "evt_1200", "cursor": "evt_1260", "completed": 41, "failed": 2, "truncated": false},
///      "queues": [{"name": "email", "depth": 3, …}], "workers": 2, "replication": {…}}
extension OJSAPI {
    /// The event types the overview counts as finished work.
    static let overviewTallyTypes = ["job.completed", "job.failed"]
    /// Queues one overview lists, as the old dashboard did (`/ojs/v1/queues?limit=200`).
    static let overviewQueueLimit = 200

    func addAdminOverviewRoute(_ router: Router<Context>) {
        router.get("/ojs/v1/admin/overview") { request, _ in
            var after: Int64?
            if let cursor = request.queryString("after") {
                guard let seq = EventLog.seq(id: cursor) else {
                    throw OJSError.invalid("Query parameter 'after' must be an event id (evt_<n>) from an earlier overview.", field: "after")
                }
                after = seq
            }
            let tally = try await store.tallyEvents(after: after, types: Self.overviewTallyTypes)
            let stats = try await store.serverStats(recentThroughput: false)
            let (queues, queueCount) = try await store.queues(limit: Self.overviewQueueLimit)
            var jobs = JSONObject()
            for state in JobState.allCases { jobs[state.rawValue] = .int(stats.jobs[state] ?? 0) }
            var node: JSONObject = [:]
            switch role {
            case .primary: node["role"] = "primary"
            case .replica(_, let region):
                node["role"] = "replica"
                node["region"] = .string(region)
            }
            var throughput: JSONObject = [
                "cursor": .string(EventLog.id(seq: tally.cursor)), "completed": .int(tally.counts["job.completed"] ?? 0),
                "failed": .int(tally.counts["job.failed"] ?? 0), "truncated": .bool(tally.truncated),
            ]
            throughput["after"] = after.map { .string(EventLog.id(seq: $0)) } ?? .null
            let body: JSONObject = [
                "time": .string(Timestamp.format(millis: store.clock())), "node": .object(node), "jobs": .object(jobs),
                "throughput": .object(throughput), "queues": .array(queues.map(Self.overviewQueue)), "queue_count": .int(queueCount),
                "workers": .int(stats.workers), "replication": replicationStatusJSON().status,
            ]
            return JSONResponse.value(.ok, .object(body))
        }
    }

    static func overviewQueue(_ q: QueueInfo) -> JSONValue {
        var o: JSONObject = [
            "name": .string(q.name), "paused": .bool(q.paused), "depth": .int(q.counts.depth),
            "available": .int(q.counts[.available]), "active": .int(q.counts[.active]), "scheduled": .int(q.counts[.scheduled]),
            "retryable": .int(q.counts[.retryable]), "discarded": .int(q.counts[.discarded]),
        ]
        o["oldest_available_at"] = q.oldestAvailableAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        return .object(o)
    }
}
