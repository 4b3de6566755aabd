import AsyncHTTPClient
import Hummingbird
import Logging
import OJSReplication
import OJSStore
import ServiceLifecycle

/// Assembles a regional replica: the OJS read routes over the local copy behind the
/// consistency middleware, forwarding for everything else, and the tailer as a service.
public enum ReplicaServer {
    /// `forwardClient` carries forwarded requests only; the tailer has its own
    /// (`makeForwardClient`).
    public static func makeRouter(
        store: Store,
        tailer: ReplicaTailer,
        region: String,
        primaryURL: String,
        forwardClient: HTTPClient,
        config: ServerConfiguration,
        logger: Logger,
        metrics: OJSMetrics = OJSMetrics(),
        cluster: ClusterView? = nil,
        events: EventFeed? = nil
    ) -> Router<OJSRequestContext> {
        let router = Router(context: OJSRequestContext.self)
        let health = HealthState()
        tailer.onApply { records, bytes, duration, lags in
            metrics.replicaApplied(records: records, bytes: bytes, duration: duration)
            for lag in lags { metrics.observeLag(region: region, ms: lag) }
        }
        if config.tracing { router.add(middleware: TracingMiddleware<OJSRequestContext>()) }
        router.add(middleware: OJSMiddleware(logger: logger, consistency: { [] }, metrics: metrics))
        router.add(middleware: CanonicalPathMiddleware())
        router.add(middleware: AuthMiddleware(apiKeys: config.apiKeys, replicationKeys: config.replicationKeys))
        let forwarder = PrimaryForwarder(
            primaryURL: primaryURL,
            client: forwardClient,
            maxBodyBytes: config.maxBodyBytes,
            region: region,
            tracing: config.tracing,
            attempts: config.forwardAttempts,
            timeout: .milliseconds(Int64(config.forwardTimeoutMs))
        )
        router.add(
            middleware: ReplicaMiddleware(tailer: tailer, forwarder: forwarder, region: region, waitMs: config.consistencyWaitMs, clock: store.clock)
        )
        var api = OJSAPI(
            store: store,
            config: config,
            health: health,
            role: .replica(tailer, region: region),
            metrics: metrics,
            tracing: nil,
            cluster: cluster
        )
        api.events = events
        api.register(on: router)
        return router
    }

    /// `services` run beside the server (the trace exporter).
    public static func makeApplication(
        store: Store,
        tailer: ReplicaTailer,
        region: String,
        primaryURL: String,
        forwardClient: HTTPClient,
        config: ServerConfiguration,
        logger: Logger,
        services: [any Service] = []
    ) -> some ApplicationProtocol {
        let events = makeEventFeed(store: store, tailer: tailer, config: config, logger: logger)
        let router = makeRouter(
            store: store,
            tailer: tailer,
            region: region,
            primaryURL: primaryURL,
            forwardClient: forwardClient,
            config: config,
            logger: logger,
            events: events
        )
        return Application(
            router: router,
            server: HTTPServerSettings.server(config),
            configuration: HTTPServerSettings.application(config, serverName: "ojs-edge-replica", logger: logger),
            services: services + [TailerService(tailer: tailer), events],
            logger: logger
        )
    }
}

extension ReplicaServer {
    /// The replica's event feed, woken by every batch the tailer applies (published after the
    /// batch is in the copy, so the feed's read sees its events).
    public static func makeEventFeed(store: Store, tailer: ReplicaTailer, config: ServerConfiguration, logger: Logger) -> EventFeed {
        EventFeed(store: store, wake: tailer.applied, settings: EventFeed.Settings(config), logger: logger)
    }

    /// The client a replica forwards through: a pool of `forwardPoolSize` connections to the
    /// primary, apart from the replication stream's. A refused connection fails the forward
    /// at once (503) rather than waiting out the timeout for the primary to come back. The
    /// caller shuts it down.
    public static func makeForwardClient(_ config: ServerConfiguration) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: config.forwardPoolSize)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        // The forwarder makes its own client span and injects it; a second one from the client
        // (it takes the global tracer when built) would add a second `traceparent`.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}

/// Runs the tailer until graceful shutdown.
struct TailerService: Service {
    let tailer: ReplicaTailer
    func run() async throws {
        await cancelWhenGracefulShutdown { await tailer.run() }
    }
}
