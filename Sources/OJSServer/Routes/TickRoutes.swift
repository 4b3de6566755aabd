import Hummingbird
import OJSCore
import OJSStore

/// `POST /ojs/v1/admin/tick`: one scheduler pass on demand. In serverless mode nothing runs
/// between requests, so a platform cron (Cloudflare Cron Trigger, EventBridge, crontab)
/// calls this to fire cron entries, reclaim lapsed reservations and purge old jobs. It
/// exists in every mode (a harmless extra pass beside the ticker) and, on a replica, is
/// forwarded to the primary like any other write.
extension OJSAPI {
    func addTickRoutes(_ router: Router<Context>) {
        router.post("/ojs/v1/admin/tick") { _, _ in
            let report = try await store.tick()
            // The replication log's retention runs on the ticker's schedule; without one,
            // this pass is the only thing that trims it.
            var segments = 0
            if case .primary(let replication?) = role {
                segments = try replication.log.applyRetention(now: store.clock())
                try replication.log.syncIfDue()
            }
            // Serverless mode has no dispatcher running: deliveries go out here.
            let deliveries = await push?.passAndWait()
            return JSONResponse.value(
                .ok,
                Self.tickJSON(report, replicationSegments: segments, pushDeliveries: deliveries, serverless: config.serverless)
            )
        }
    }

    /// `pushDeliveries`: deliveries this tick started (serverless mode only; elsewhere the
    /// dispatcher runs on its own and the field is absent).
    static func tickJSON(_ r: TickReport, replicationSegments: Int, pushDeliveries: Int?, serverless: Bool) -> JSONValue {
        func n(_ v: Int) -> JSONValue { .int(Int64(v)) }
        var json: JSONObject = [
            "promoted": n(r.promoted), "expired": n(r.expired), "reclaimed": n(r.reclaimed), "timed_out": n(r.timedOut),
            "cron_fired": n(r.cronFired), "purged": n(r.purge.jobs),
            "purged_detail": [
                "completed": n(r.purge.completed), "discarded": n(r.purge.discarded), "cancelled": n(r.purge.cancelled),
                "workflows": n(r.purge.workflows), "events": n(r.purge.events), "idempotency_keys": n(r.purge.idempotencyKeys),
                "workers": n(r.purge.workers), "queues": n(r.purge.queues), "rate_limits": n(r.purge.rateLimits),
            ],
            "more": .bool(r.purge.more || r.more), "transactions": n(r.transactions), "replication_segments_removed": n(replicationSegments),
            "serverless": .bool(serverless),
        ]
        if let pushDeliveries { json["push_deliveries"] = n(pushDeliveries) }
        return .object(json)
    }
}
