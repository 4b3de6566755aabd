import Hummingbird
import OJSCore
import OJSReplication
import OJSStore

extension OJSAPI {
    func addSystemRoutes(_ router: Router<Context>) {
        router.get("/ojs/manifest") { _, _ in manifest() }
        router.get("/ojs/v1/health") { _, _ in try await healthResponse() }
        router.get("/ojs/v1/events") { request, _ in try await events(request) }
        if config.testMode {
            router.post("/ojs/v1/admin/reset") { _, _ in
                try await store.reset()
                return JSONResponse.value(.ok, ["reset": true])
            }
        }
    }

    func manifest() -> Response {
        JSONResponse.value(
            .ok,
            [
                "specversion": "1.0",
                "ojs_version": "1.0",
                "implementation": [
                    "name": "ojs-edge", "version": .string(config.version), "language": "swift", "backend": "sqlite",
                    "homepage": "https://github.com/ojs-edge/ojs-edge",
                ],
                "conformance_level": .int(Int64(config.conformanceLevel)),
                "protocols": ["http"],
                "backend": "sqlite",
                "capabilities": [
                    "batch_enqueue": true, "cron": true, "dead_letter": true, "delayed_jobs": true, "job_ttl": true,
                    "priority": true, "rate_limiting": true, "schema_validation": false, "unique_jobs": true, "workflows": true,
                    "pause_resume": true, "events": true, "heartbeat": true, "visibility_timeout": true, "progress": true,
                    "idempotency_keys": true, "trace_context": true, "trace_export": .bool(config.tracing),
                ],
                "extensions": .array(config.extensions.map { .string($0) }),
            ]
        )
    }

    func healthResponse() async throws -> Response {
        if case .replica(let tailer, let region) = role { return replicaHealth(tailer, region: region) }
        let started = Store.systemClock()
        var backendStatus = "ok"
        var message: String?
        do {
            _ = try await store.queue("default")
        } catch {
            backendStatus = "down"
            message = "\(error)"
        }
        // Degraded from a failed write until one commits again: reads alone cannot see a
        // full or read-only disk.
        if backendStatus == "ok", let failure = store.writer?.storageFailure {
            backendStatus = "degraded"
            message = "writes are failing: " + failure
        }
        var writerJSON: JSONObject = [:]
        if let writer = store.writer {
            let w = writer.health
            writerJSON = [
                "queue_depth": .int(Int64(w.queueDepth)), "oldest_waiting_ms": .int(Int64(w.oldestWaitingMs)),
                "since_last_batch_ms": .int(Int64(w.sinceLastBatchMs)), "wal_bytes": .int(w.walBytes),
            ]
            // Work waits and no batch has finished for the stall time: the writer is stuck
            // (a hung disk, a runaway transaction), and every write is waiting on it.
            if backendStatus == "ok", w.isStalled(afterMs: config.writerStallMs) {
                backendStatus = "degraded"
                message = "the writer has finished no batch for \(w.sinceLastBatchMs) ms while \(w.queueDepth) requests wait"
            }
        }
        var replicationJSON: JSONObject?
        if case .primary(let replication?) = role {
            let s = replication.stats
            replicationJSON = ["capture_failures": .int(Int64(s.captureFailures)), "last_error": s.lastError.map { .string($0) } ?? .null]
            // The last commit was not captured: replicas are re-bootstrapping or stuck.
            if backendStatus == "ok", let error = s.lastError {
                backendStatus = "degraded"
                message = "replication capture is failing: " + error
            }
        }
        let latency = Store.systemClock() - started
        let status = backendStatus == "ok" ? "ok" : "degraded"
        var backend: JSONObject = ["type": "sqlite", "status": .string(backendStatus), "latency_ms": .int(latency)]
        if let message { backend["error"] = .string(message) }
        var body: JSONObject = [
            "status": .string(status), "version": .string(config.version), "uptime_seconds": .int(Int64(health.uptimeSeconds)),
            "role": "primary", "serverless": .bool(config.serverless), "backend": .object(backend),
        ]
        if !writerJSON.isEmpty { body["writer"] = .object(writerJSON) }
        if let replicationJSON { body["replication"] = .object(replicationJSON) }
        if let cluster { body["cluster"] = cluster.current.json(now: Store.systemClock()) }
        return JSONResponse.value(status == "ok" ? .ok : .serviceUnavailable, .object(body))
    }

    func events(_ request: Request) async throws -> Response {
        var q = EventQuery()
        q.types = request.queryList("types") + request.queryList("type")
        q.queues = request.queryList("queues") + request.queryList("queue")
        q.jobTypes = request.queryList("job_types")
        q.subjects = request.queryList("subject")
        if let since = request.queryString("since") {
            guard let ms = Timestamp.parse(since) else {
                throw OJSError.invalid("Query parameter 'since' must be an RFC 3339 timestamp.", field: "since")
            }
            q.since = ms
        }
        q.after = request.queryString("after") ?? request.queryString("cursor")
        q.limit = try request.queryInt("limit", default: 100, range: 1...1000)
        let page = try await store.events(q)
        return JSONResponse.object { w in
            w.key("events")
            w.raw("[" + page.events.joined(separator: ",") + "]")
            if let cursor = page.cursor { w.field("cursor", cursor) } else { w.field("cursor", .null) }
            w.field("has_more", page.hasMore)
        }
    }
}

extension OJSAPI {
    /// A replica is healthy while it streams and its lag is under the threshold; otherwise it
    /// answers 503 with the reason so a load balancer stops sending it reads. Always answered
    /// by the replica itself, never forwarded (see `ReplicaMiddleware`).
    func replicaHealth(_ tailer: ReplicaTailer, region: String) -> Response {
        let s = tailer.status.current
        let now = store.clock()
        let lag = s.lagMs(now: now)
        let diverged = tailer.diverged.withLock { $0 }
        let reason = replicaUnhealthyReason(tailer, s, now: now)
        var replication: JSONObject = [
            "state": .string(diverged ? "diverged" : s.state.rawValue), "applied_txid": .int(Int64(s.appliedTxid)),
            "primary_txid": .int(Int64(s.primaryTxid)), "lag_ms": .int(lag), "lag_transactions": .int(Int64(s.lagTransactions)),
            "max_lag_ms": .int(Int64(config.replicaMaxLagMs)),
        ]
        replication["fault"] = s.fault.map(Self.faultJSON) ?? .null
        var body: JSONObject = [
            "status": .string(reason == nil ? "ok" : "degraded"), "version": .string(config.version), "role": "replica",
            "region": .string(region), "uptime_seconds": .int(Int64(health.uptimeSeconds)),
            "reason": reason.map { .string($0) } ?? .null,
            "replication": .object(replication),
        ]
        if let cluster { body["cluster"] = cluster.current.json(now: now) }
        return JSONResponse.value(reason == nil ? .ok : .serviceUnavailable, .object(body))
    }

    /// Why this replica is not healthy (refused, bootstrapping, diverged, disconnected or too
    /// far behind), or nil when it is: one verdict for health and replication status.
    func replicaUnhealthyReason(_ tailer: ReplicaTailer, _ s: ReplicaStatus, now: Int64) -> String? {
        if let reason = s.unhealthyReason(diverged: tailer.diverged.withLock { $0 }) { return reason }
        let lag = s.lagMs(now: now)
        return lag > Int64(config.replicaMaxLagMs) ? "lagging \(lag) ms behind the primary (threshold \(config.replicaMaxLagMs) ms)" : nil
    }
}
