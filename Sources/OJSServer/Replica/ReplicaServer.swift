import AsyncHTTPClient
import Hummingbird
import Logging
import OJSReplication
import OJSStore
import ServiceLifecycle

/// Assembles a regional replica: the OJS read routes over the local copy behind the
/// consistency middleware, forwarding for everything else, and the tailer as a service.
public enum ReplicaServer {
    public static func makeRouter(
        store: Store, tailer: ReplicaTailer, region: String, primaryURL: String, client: HTTPClient, config: ServerConfiguration, logger: Logger
    ) -> Router<OJSRequestContext> {
        let router = Router(context: OJSRequestContext.self)
        let health = HealthState()
        let metrics = OJSMetrics()
        tailer.onApply { records, bytes, duration, lags in
            metrics.replicaApplied(records: records, bytes: bytes, duration: duration)
            for lag in lags { metrics.observeLag(region: region, ms: lag) }
        }
        if config.tracing { router.add(middleware: TracingMiddleware<OJSRequestContext>()) }
        router.add(middleware: OJSMiddleware(logger: logger, consistency: { [] }, metrics: metrics))
        router.add(middleware: CanonicalPathMiddleware())
        router.add(middleware: AuthMiddleware(apiKeys: config.apiKeys, replicationKeys: config.replicationKeys))
        let forwarder = PrimaryForwarder(
            primaryURL: primaryURL, client: client, maxBodyBytes: config.maxBodyBytes, region: region, tracing: config.tracing)
        router.add(
            middleware: ReplicaMiddleware(tailer: tailer, forwarder: forwarder, region: region, waitMs: config.consistencyWaitMs, clock: store.clock))
        OJSAPI(store: store, config: config, health: health, role: .replica(tailer, region: region), metrics: metrics, tracing: nil)
            .register(on: router)
        return router
    }

    /// `services` run beside the server (the trace exporter).
    public static func makeApplication(
        store: Store, tailer: ReplicaTailer, region: String, primaryURL: String, client: HTTPClient, config: ServerConfiguration, logger: Logger,
        services: [any Service] = []
    ) -> some ApplicationProtocol {
        let router = makeRouter(store: store, tailer: tailer, region: region, primaryURL: primaryURL, client: client, config: config, logger: logger)
        return Application(
            router: router,
            server: HTTPServerSettings.server(config),
            configuration: HTTPServerSettings.application(config, serverName: "ojs-edge-replica", logger: logger),
            services: services + [TailerService(tailer: tailer)],
            logger: logger)
    }
}

/// Runs the tailer until graceful shutdown.
struct TailerService: Service {
    let tailer: ReplicaTailer
    func run() async throws {
        await cancelWhenGracefulShutdown { await tailer.run() }
    }
}
