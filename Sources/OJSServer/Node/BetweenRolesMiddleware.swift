import Hummingbird
import OJSCore
import OJSReplication

/// Refuses every request but the node's own health and replication status while the node is
/// between roles, with a retryable `503 not_primary`. A middleware rather than a `/**` route:
/// the router's trie does not backtrack, so `/**` never matched a path that shares a prefix
/// with a registered one (`/ojs/v1/jobs/…` under `/ojs/v1/health`) and those got 404, which a
/// client reads as "the job does not exist" (found by the failover simulation).
struct BetweenRolesMiddleware: RouterMiddleware {
    typealias Context = OJSRequestContext
    let cluster: ClusterView

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let ownState = path == "/ojs/v1/health" || path == ReplicationProtocol.Path.status
        if ownState, request.method == .get || request.method == .head { return try await next(request, context) }
        let view = cluster.current
        throw OJSError(.notPrimary, "Node \(view.node) is between roles (\(view.detail ?? "electing")); retry shortly.", retryAfterSeconds: 1)
    }
}
