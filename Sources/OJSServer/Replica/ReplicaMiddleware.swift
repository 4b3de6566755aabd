import Hummingbird
import OJSCore
import OJSReplication
import OJSStore

/// The consistency rules of a replica (`docs/consistency.md`), applied to every request:
/// writes go to the primary; a read is served from the local copy only when that copy is at
/// least as new as the client's `OJS-Bookmark` and within its `OJS-Max-Staleness-Ms` — after
/// waiting up to a bound for the copy to catch up, the read is forwarded instead. Local
/// answers carry the copy's bookmark, the region and the lag.
struct ReplicaMiddleware: RouterMiddleware {
    typealias Context = OJSRequestContext
    let tailer: ReplicaTailer
    let forwarder: PrimaryForwarder
    let region: String
    let waitMs: Int
    let clock: @Sendable () -> Int64

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A replica's own state (bootstrapping, a full disk, diverged) is only visible if it
        // answers these itself, whether or not it has a copy to serve.
        if Self.isOwnState(request) { return try await next(request, context) }
        // A live stream is served from this copy or not at all: a forward would hold a
        // pooled connection to the primary for the stream's whole life, and bookmarks mean
        // nothing to a stream that follows the copy as it advances.
        if Self.isEventStream(request) {
            guard !tailer.diverged.withLock({ $0 }), tailer.applier.hasCopy else {
                throw OJSError(.unavailable, "This replica has no copy it can serve events from yet; retry shortly.", retryAfterSeconds: 1)
            }
            var response = try await next(request, context)
            response.headers[.servedBy] = "replica/\(region)"
            return response
        }
        guard Self.isReplicaRead(request), await canServe(request) else {
            return try await forwarder.forward(request, requestId: context.requestId)
        }
        var response = try await next(request, context)
        let status = tailer.status.current
        response.headers[.bookmark] = Bookmark(txid: Int64(status.appliedTxid), generation: status.generation ?? "").text
        response.headers[.servedBy] = "replica/\(region)"
        response.headers[.replicaLag] = String(status.lagMs(now: clock()))
        return response
    }

    /// The replica's own health and replication status: always answered here, whatever state
    /// the copy is in. Forwarding them would report the primary's health as this replica's
    /// (a refused replica answered 200 `"role":"primary"`).
    static func isOwnState(_ request: Request) -> Bool {
        guard request.method == .get || request.method == .head else { return false }
        let path = request.uri.path
        return path == "/ojs/v1/health" || path == ReplicationProtocol.Path.status
    }

    static func isEventStream(_ request: Request) -> Bool {
        (request.method == .get || request.method == .head) && request.uri.path == EventStreamRequest.path
    }

    /// Reads of the job system a replica answers from its copy. Everything else — writes,
    /// worker calls, the replication endpoints — belongs to the primary.
    static func isReplicaRead(_ request: Request) -> Bool {
        guard request.method == .get || request.method == .head else { return false }
        let path = request.uri.path
        return !path.hasPrefix(ReplicationProtocol.Path.prefix) || path == ReplicationProtocol.Path.status || path == ReplicationProtocol.Path.digest
    }

    /// Whether the local copy satisfies the request's freshness demands, waiting up to
    /// `waitMs` for it to catch up.
    func canServe(_ request: Request) async -> Bool {
        if tailer.diverged.withLock({ $0 }) || !tailer.applier.hasCopy { return false }
        let deadline = ContinuousClock.now + .milliseconds(waitMs)
        if let text = request.headers[.bookmark] {
            let generation = tailer.status.current.generation.map { Bookmark(txid: 0, generation: $0).generation }
            guard let bookmark = Bookmark(text: text), bookmark.generation == generation else { return false }
            if tailer.applied.value < bookmark.txid {
                guard await tailer.applied.wait(atLeast: bookmark.txid, timeout: deadline - .now) else { return false }
            }
        }
        if let text = request.headers[.maxStaleness] {
            guard let bound = Int64(text), bound >= 0 else { return false }
            while tailer.status.current.lagMs(now: clock()) > bound {
                let target = Int64(tailer.status.current.primaryTxid)
                let remaining = deadline - .now
                guard remaining > .zero, await tailer.applied.wait(atLeast: max(target, tailer.applied.value + 1), timeout: remaining) else {
                    return tailer.status.current.lagMs(now: clock()) <= bound
                }
            }
        }
        return true
    }
}
