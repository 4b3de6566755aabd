import Hummingbird
import OJSCore
import OJSReplication

/// Synchronous replicas on the primary (`--sync-replicas` ≥ 1): a successful (2xx) answer to
/// a request that can write — every method but GET, HEAD and OPTIONS, worker fetch, ack and
/// nack included — is held until `required` replicas have durably received the writer's
/// position after the request, an upper bound of the request's own transaction. The writer
/// and its group commit never wait: the request's task does, on `SyncQuorum`, after the
/// commit. Past the timeout the answer is `503 x_sync_timeout`, or under `--sync-degrade` the
/// answer itself, counted. Installed only when synchronous replication is on, so without it
/// a request does no extra work.
struct SyncMiddleware: RouterMiddleware {
    typealias Context = OJSRequestContext
    let quorum: SyncQuorum
    let policy: SyncPolicy
    /// The writer's committed txid.
    let position: @Sendable () -> Int64
    let metrics: OJSMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        guard Self.waitsForReplicas(method: request.method, path: request.uri.path, status: response.status.code) else { return response }
        let txid = TxID(max(0, position()))
        let timeout = Duration.milliseconds(policy.timeoutMs)
        if policy.degrade && !quorum.shouldWait(window: timeout) {
            quorum.answeredWithoutQuorum(txid: txid)
            metrics.syncDegradedWrite()
            return response
        }
        let started = ContinuousClock.now
        let acknowledged = await quorum.wait(for: txid, timeout: timeout)
        metrics.syncWait(ContinuousClock.now - started, acknowledged: acknowledged)
        if acknowledged { return response }
        metrics.syncTimeout()
        if policy.degrade {
            quorum.answeredWithoutQuorum(txid: txid)
            metrics.syncDegradedWrite()
            return response
        }
        let snapshot = quorum.snapshot
        throw OJSError(
            .syncTimeout,
            "The write committed on the primary (txid \(txid)) but was not confirmed by \(policy.replicas) replica(s) within "
                + "\(policy.timeoutMs) ms (\(snapshot.connected) connected), so its durability across a failover is not guaranteed. "
                + "Send it again with the same Idempotency-Key: it is not applied twice, and the answer waits for the replicas again.",
            details: [
                "txid": .int(Int64(clamping: txid)), "required": .int(Int64(policy.replicas)), "connected": .int(Int64(snapshot.connected)),
                "quorum_txid": snapshot.quorumTxid.map { .int(Int64(clamping: $0)) } ?? .null,
            ]
        )
    }

    /// Whether this answer waits: a 2xx to a method that can write, outside the replication
    /// endpoints (a replica's own acknowledgement must never wait for acknowledgements).
    static func waitsForReplicas(method: HTTPRequest.Method, path: String, status: Int) -> Bool {
        guard (200..<300).contains(status) else { return false }
        guard method != .get && method != .head && method != .options else { return false }
        return !path.hasPrefix(ReplicationProtocol.Path.prefix)
    }
}
