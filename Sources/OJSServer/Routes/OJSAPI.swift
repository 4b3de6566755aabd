import Hummingbird
import Logging
import OJSCore
import OJSReplication
import OJSStore

/// What this process is: the primary (owns the writer, ships the log) or a regional replica.
enum NodeRole: Sendable {
    case primary(ReplicationSource?)
    case replica(ReplicaTailer, region: String)
}

/// The OJS HTTP binding: every route, grouped by concern in extensions. On a replica the same
/// read routes run against the local copy; writes never reach them (they are forwarded).
struct OJSAPI: Sendable {
    let store: Store
    let config: ServerConfiguration
    let health: HealthState
    let role: NodeRole
    let metrics: OJSMetrics
    /// Present when tracing is on; every span call sits behind it.
    let tracing: JobTracing?
    /// Serverless mode's push dispatcher, run by `POST /ojs/v1/admin/tick` (otherwise the
    /// dispatcher is a background service and this is nil).
    var push: PushDispatcher? = nil
    /// A failover node's view of its cluster (`ojs-edge node`); nil for `serve` and `replica`.
    var cluster: ClusterView? = nil
    /// The primary's synchronous-replication quorum, present only with `--sync-replicas` ≥ 1:
    /// streams feed it and ask their replicas for acknowledgements, and `SyncMiddleware` waits
    /// on it.
    var sync: SyncQuorum? = nil
    /// The node's live event feed behind `GET /ojs/v1/events/stream`; nil, no stream route.
    var events: EventFeed? = nil

    typealias Context = OJSRequestContext

    func register(on router: Router<Context>) {
        addSystemRoutes(router)
        addEventStreamRoute(router)
        addJobRoutes(router)
        addWorkerRoutes(router)
        addDeadLetterRoutes(router)
        addDeadLetterBulkRoutes(router)
        addQueueRoutes(router)
        addWorkflowRoutes(router)
        addCronRoutes(router)
        addAdminRoutes(router)
        addPushRoutes(router)
        addTickRoutes(router)
        addProgressRoutes(router)
        addReplicationRoutes(router)
        addMetricsRoute(router)
        addConsoleRoutes(router)
    }

    /// A path parameter that the route pattern guarantees.
    static func parameter(_ context: Context, _ name: String) throws -> String {
        guard let value = context.parameters.get(name) else { throw OJSError.invalid("Missing path parameter '\(name)'.") }
        return value
    }
}
