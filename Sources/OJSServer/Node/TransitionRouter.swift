import Hummingbird
import Logging
import OJSCore
import OJSReplication
import OJSStore

/// What a failover node answers between roles (electing, bootstrapping its first copy,
/// stepping down): its own health and replication status say so with 503, and every other
/// request gets a retryable `503 not_primary`, so clients retry and reach the node again once
/// it serves a role. Same middleware order as both roles: canonical paths and auth first.
enum TransitionRouter {
    static func make(config: ServerConfiguration, logger: Logger, metrics: OJSMetrics, cluster: ClusterView) -> Router<OJSRequestContext> {
        let router = Router(context: OJSRequestContext.self)
        router.add(
            middleware: OJSMiddleware(logger: logger, consistency: { [(.servedBy, "node/\(cluster.current.node)")] }, metrics: metrics)
        )
        router.add(middleware: CanonicalPathMiddleware())
        router.add(middleware: AuthMiddleware(apiKeys: config.apiKeys, replicationKeys: config.replicationKeys))
        router.add(middleware: BetweenRolesMiddleware(cluster: cluster))
        let state: @Sendable (Request, OJSRequestContext) async throws -> Response = { _, _ in
            let now = Store.systemClock()
            let view = cluster.current
            let body: JSONObject = [
                "status": "degraded", "version": .string(config.version), "role": .string(view.role.rawValue),
                "reason": .string(view.detail ?? "between roles"), "cluster": view.json(now: now),
            ]
            return JSONResponse.value(.serviceUnavailable, .object(body))
        }
        router.get("/ojs/v1/health", use: state)
        router.get(RouterPath(ReplicationProtocol.Path.status), use: state)
        return router
    }
}
