import HTTPTypes
import Hummingbird
import NIOCore
import OJSCore
import OJSReplication
import OJSStore
import ServiceLifecycle
import Synchronization

/// WAL-shipping endpoints on the primary (`docs/replication-protocol.md`).
extension OJSAPI {
    func addReplicationRoutes(_ router: Router<Context>) {
        router.get(RouterPath(ReplicationProtocol.Path.status)) { _, _ in replicationStatus() }
        router.get(RouterPath(ReplicationProtocol.Path.digest)) { _, _ in
            let d: ContentDigest
            do {
                d = try await store.digest()
            } catch let unsettled as DigestUnsettled {
                throw OJSError(.unavailable, "No digest: \(unsettled).")
            }
            return JSONResponse.value(
                .ok,
                ["txid": .int(d.txid), "sha256": .string(d.sha256), "tables": .int(Int64(d.tables)), "rows": .int(Int64(d.rows))]
            )
        }
        guard case .primary(let source?) = role else { return }
        addPositionReportRoute(router, source: source)
        addAckRoute(router, source: source)
        router.get(RouterPath(ReplicationProtocol.Path.snapshot)) { request, _ in
            let transfer = try await openSnapshot(request, source: source)
            var headers = HTTPFields()
            headers[.contentType] = ReplicationProtocol.MediaType.snapshot
            headers[HTTPField.Name(ReplicationProtocol.Header.snapshotTxid)!] = String(transfer.image.header.txid)
            headers[HTTPField.Name(ReplicationProtocol.Header.snapshotId)!] = transfer.image.header.id.text
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    // Gives the slot back however the body ends (sent, client gone, shutdown).
                    defer { transfer.close() }
                    let stopping = Mutex(false)
                    try await withGracefulShutdownHandler {
                        try await writer.write(ByteBuffer(bytes: transfer.header.encode()))
                        for index in transfer.firstChunk..<transfer.image.header.chunkCount {
                            // A shutdown ends the body without its trailer; the replica resumes
                            // elsewhere or starts over.
                            if stopping.withLock({ $0 }) { return }
                            try await writer.write(ByteBuffer(bytes: try await transfer.chunk(index)))
                        }
                        try await writer.write(ByteBuffer(bytes: transfer.trailer.encode()))
                    } onGracefulShutdown: {
                        stopping.withLock { $0 = true }
                    }
                    try await writer.finish(nil)
                }
            )
        }
        router.get(RouterPath(ReplicationProtocol.Path.stream)) { request, _ in
            guard let afterText = request.queryString(ReplicationProtocol.Query.after), let after = UInt64(afterText) else {
                throw OJSError.invalid("Query parameter 'after' (a txid) is required.", field: "after")
            }
            var generation: Generation?
            if let g = request.queryString(ReplicationProtocol.Query.generation) {
                guard let parsed = Generation(text: g) else {
                    throw OJSError.invalid("Query parameter 'generation' is not a generation id.", field: "generation")
                }
                generation = parsed
            }
            var checksum: UInt32?
            if let c = request.queryString(ReplicationProtocol.Query.checksum) {
                guard let parsed = UInt32(c) else {
                    throw OJSError.invalid("Query parameter 'checksum' must be a decimal 32-bit checksum.", field: "checksum")
                }
                checksum = parsed
            }
            do throws(StreamRefusal) {
                try source.checkStart(after: after, generation: generation, checksum: checksum)
            } catch {
                throw Self.refusal(error)
            }
            var headers = HTTPFields()
            headers[.contentType] = ReplicationProtocol.MediaType.records
            if let sync { headers[HTTPField.Name(ReplicationProtocol.Header.syncReplicas)!] = String(sync.required) }
            let clock = store.clock
            let region = request.queryString(ReplicationProtocol.Query.region) ?? "unnamed"
            guard ReplicaRegistry.isValidRegion(region) else {
                throw OJSError.invalid("Query parameter 'region' must be 1-64 ASCII letters, digits, '-', '_' or '.'.", field: "region")
            }
            guard source.replicas.streamOpened(region: region, after: after, now: clock()) else {
                throw OJSError(.unavailable, "This primary already serves \(ReplicaRegistry.capacity) replicas; retry once one disconnects.")
            }
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    // A stream never ends by itself; graceful shutdown ends it so the server
                    // can stop (the replica reconnects when the primary is back).
                    sync?.streamOpened(region: region, after: after)
                    defer {
                        source.replicas.streamClosed(region: region, now: clock())
                        sync?.streamClosed(region: region)
                    }
                    let stopping = Mutex(false)
                    try await withGracefulShutdownHandler {
                        var cursor = StreamCursor(txid: after)
                        // A replica already at the head learns so at once, not a second later.
                        if after == source.log.lastTxid {
                            try await writer.write(ByteBuffer(bytes: try source.heartbeat(now: clock()).bytes))
                        }
                        while !Task.isCancelled, !stopping.withLock({ $0 }) {
                            let (bytes, next) = try await source.nextChunk(after: cursor, now: clock)
                            try await writer.write(ByteBuffer(bytes: bytes))
                            cursor = next
                        }
                    } onGracefulShutdown: {
                        stopping.withLock { $0 = true }
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    /// Where this node stands in the replication history (`docs/operations.md`): 503 on a
    /// replica that cannot serve as a healthy one, so a load balancer polling it or
    /// `/ojs/v1/health` sees the same verdict.
    func replicationStatus() -> Response {
        let (status, healthy) = replicationStatusJSON()
        return JSONResponse.value(healthy ? .ok : .serviceUnavailable, status)
    }

    /// The status document, and whether this node is healthy in its role (a primary always is).
    func replicationStatusJSON() -> (status: JSONValue, healthy: Bool) {
        let now = store.clock()
        switch role {
        case .primary(let source):
            var o: JSONObject = ["role": "primary", "serverless": .bool(config.serverless), "txid": .int(store.writer?.position.txid ?? 0)]
            if let source {
                let s = source.stats
                o["generation"] = .string(s.generation.text)
                o["log"] = [
                    "first_txid": .int(Int64(s.firstTxid)), "last_txid": .int(Int64(s.lastTxid)), "bytes": .int(Int64(s.logBytes)),
                ]
                o["captured_records"] = .int(Int64(s.capturedRecords))
                o["captured_transactions"] = .int(Int64(s.capturedTransactions))
                o["multi_record_transactions"] = .int(Int64(s.multiPartTransactions))
                o["captured_page_bytes"] = .int(Int64(s.capturedWALBytes))
                o["record_bytes"] = .int(Int64(s.recordBytes))
                o["compression_ratio"] =
                    s.recordBytes > 0 ? .double((Double(s.capturedWALBytes) / Double(s.recordBytes) * 100).rounded() / 100) : .null
                o["last_error"] = s.lastError.map { .string($0) } ?? .null
                o["sync"] = Self.syncJSON(sync?.snapshot, policy: config.sync)
                o["replicas"] = .array(
                    source.replicas.entries(lastTxid: s.lastTxid, now: now).map { e in
                        [
                            "region": .string(e.region), "state": .string(e.state), "applied_txid": .int(Int64(e.appliedTxid)),
                            "lag_transactions": .int(Int64(e.lagTransactions)), "lag_bytes": .int(Int64(e.lagBytes)), "lag_ms": .int(e.lagMs),
                            "last_contact": .string(Timestamp.format(millis: e.lastContact)), "streams": .int(Int64(e.streams)),
                        ]
                    }
                )
            }
            if let cluster { o["cluster"] = cluster.current.json(now: now) }
            return (.object(o), true)
        case .replica(let tailer, let region):
            let s = tailer.status.current
            var o: JSONObject = [
                "role": "replica", "region": .string(region),
                "state": .string(tailer.diverged.withLock { $0 } ? "diverged" : s.state.rawValue),
                "applied_txid": .int(Int64(s.appliedTxid)), "primary_txid": .int(Int64(s.primaryTxid)),
                "lag_ms": .int(s.lagMs(now: now)), "lag_transactions": .int(Int64(s.lagTransactions)),
                "bootstraps": .int(Int64(s.bootstraps)), "records_applied": .int(Int64(s.recordsApplied)),
                "bytes_received": .int(Int64(s.bytesReceived)),
            ]
            let lag = tailer.status.applyLag
            o["apply_lag_ms"] = ["samples": .int(Int64(lag.count)), "p50": .int(lag.p50), "p99": .int(lag.p99), "max": .int(lag.max)]
            o["generation"] = s.generation.map { .string($0) } ?? .null
            o["last_contact"] = s.lastContact.map { .string(Timestamp.format(millis: $0)) } ?? .null
            o["last_error"] = s.lastError.map { .string($0) } ?? .null
            o["stream_closed_by_primary_at"] = s.closedByPrimaryAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
            o["fault"] = s.fault.map(Self.faultJSON) ?? .null
            o["sync_acks"] = .bool(s.syncAcks)
            o["acks_sent"] = .int(Int64(s.acksSent))
            let ack = tailer.status.ackRoundTrip
            o["ack_round_trip_us"] = ["samples": .int(Int64(ack.count)), "p50": .int(ack.p50), "p99": .int(ack.p99), "max": .int(ack.max)]
            o["pending_bytes"] = .int(Int64(s.pendingBytes))
            o["backpressured"] = .bool(s.backpressured)
            // Answered here, never forwarded.
            let reason = replicaUnhealthyReason(tailer, s, now: now)
            o["status"] = .string(reason == nil ? "ok" : "degraded")
            o["reason"] = reason.map { .string($0) } ?? .null
            if let cluster { o["cluster"] = cluster.current.json(now: now) }
            return (.object(o), reason == nil)
        }
    }

    static func faultJSON(_ fault: ReplicaFault) -> JSONValue {
        [
            "kind": .string(fault.kind.rawValue), "detail": .string(fault.detail), "since": .string(Timestamp.format(millis: fault.since)),
            "attempts": .int(Int64(fault.attempts)),
            "next_attempt_at": fault.nextAttemptAt.map { .string(Timestamp.format(millis: $0)) } ?? .null,
        ]
    }

    func addPositionReportRoute(_ router: Router<Context>, source: ReplicationSource) {
        router.post(RouterPath(ReplicationProtocol.Path.positionRoute)) { request, context in
            let region = try Self.parameter(context, "region")
            let body = try await JSONBody.object(request, limit: ReplicationProtocol.PositionReport.maxBodyBytes)
            let report: ReplicationProtocol.PositionReport
            switch ReplicationProtocol.PositionReport.parse(body) {
            case .success(let parsed): report = parsed
            case .failure(let failure): throw OJSError.invalid(failure.message, field: failure.field)
            }
            guard ReplicaStatus.State(rawValue: report.state) != nil else {
                throw OJSError.invalid("Field 'state' is not a replica state.", field: "state")
            }
            let now = store.clock()
            guard source.replicas.report(region: region, report, now: now) else {
                throw OJSError(.conflict, "No replication stream is open for region '\(region)': open one before reporting a position.")
            }
            if let entry = source.replicas.entries(lastTxid: source.log.lastTxid, now: now).first(where: { $0.region == region }) {
                metrics.observeLag(region: region, ms: entry.lagMs)
            }
            return JSONResponse.value(.ok, ["region": .string(region), "recorded": true])
        }
    }

    /// A new snapshot, or with `id` and `from_chunk` the rest of a kept one; refusals as OJS
    /// errors (`docs/replication-protocol.md`).
    func openSnapshot(_ request: Request, source: ReplicationSource) async throws -> SnapshotTransfer {
        var resume: (id: SnapshotID, fromChunk: UInt64)?
        if let text = request.queryString("id") {
            guard let id = SnapshotID(text: text) else { throw OJSError.invalid("Query parameter 'id' is not a snapshot id.", field: "id") }
            let from = request.queryString("from_chunk") ?? "0"
            guard let chunk = UInt64(from) else { throw OJSError.invalid("Query parameter 'from_chunk' must be a chunk index.", field: "from_chunk") }
            resume = (id, chunk)
        }
        do {
            return try await source.openSnapshot(resume: resume)
        } catch let error as SnapshotError {
            switch error {
            case .busy(let seconds):
                throw OJSError(.unavailable, "The primary is sending its maximum number of snapshots.", retryAfterSeconds: seconds)
            case .unknownSnapshot(let id): throw OJSError.notFound("snapshot", id.text)
            case .malformed(let why): throw OJSError.invalid(why, field: "from_chunk")
            default: throw error
            }
        }
    }

    static func refusal(_ refusal: StreamRefusal) -> OJSError {
        let code = ReplicationProtocol.errorCode(for: refusal)
        switch refusal {
        case .generationMismatch(let current):
            return OJSError(code, "The primary's history is generation \(current.text).", details: ["generation": .string(current.text)])
        case .snapshotRequired(let oldest):
            return OJSError(
                code,
                "Records after this position are no longer retained (oldest is \(oldest)).",
                details: ["oldest_txid": .int(Int64(oldest))]
            )
        case .ahead(let last):
            return OJSError(code, "The position is past this primary's last txid \(last).", details: ["last_txid": .int(Int64(last))])
        case .diverged(let txid):
            return OJSError(
                code,
                "The copy's history differs from this primary's at txid \(txid); bootstrap again from a snapshot.",
                details: ["txid": .int(Int64(txid))]
            )
        }
    }
}
