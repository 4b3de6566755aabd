import HTTPTypes
import Hummingbird
import Logging
import OJSReplication
import OJSStore
import ServiceLifecycle

/// Assembles the primary: router, middleware, scheduler, replication source.
public enum PrimaryServer {
    public static func makeRouter(
        store: Store,
        config: ServerConfiguration,
        logger: Logger,
        replication: ReplicationSource? = nil,
        metrics: OJSMetrics = OJSMetrics(),
        push: PushDispatcher? = nil,
        sync givenSync: SyncQuorum? = nil,
        cluster: ClusterView? = nil,
        events: EventFeed? = nil
    ) -> Router<OJSRequestContext> {
        let router = Router(context: OJSRequestContext.self)
        let health = HealthState()
        let writer = store.writer
        // A failover node names itself: a client behind a load balancer sees which node answered.
        let servedBy = cluster.map { "primary/\($0.current.node)" } ?? "primary"
        writer?.addTimingObserver { size, micros in metrics.writerBatch(size: size, commitMicros: micros) }
        // Outermost, so the request span covers everything, errors rendered by OJSMiddleware included.
        if config.tracing { router.add(middleware: TracingMiddleware<OJSRequestContext>()) }
        router.add(
            middleware: OJSMiddleware(
                logger: logger,
                consistency: {
                    let generation = replication?.log.generation.text ?? "00000000"
                    let bookmark = Bookmark(txid: writer?.position.txid ?? 0, generation: generation)
                    return [(.bookmark, bookmark.text), (.servedBy, servedBy)]
                },
                metrics: metrics
            )
        )
        router.add(middleware: CanonicalPathMiddleware())
        router.add(middleware: AuthMiddleware(apiKeys: config.apiKeys, replicationKeys: config.replicationKeys))
        // Inside OJSMiddleware, so a sync timeout is rendered as an OJS error and the answer's
        // bookmark is taken after the wait; absent without --sync-replicas. A caller that wants
        // to watch the quorum (a failover controller) passes its own, built with
        // `required: config.sync.replicas`.
        let sync =
            config.sync.isEnabled && replication != nil ? givenSync ?? SyncQuorum(required: config.sync.replicas, logger: logger) : nil
        if let sync, let writer {
            router.add(middleware: SyncMiddleware(quorum: sync, policy: config.sync, position: { writer.position.txid }, metrics: metrics))
        }
        var api = OJSAPI(
            store: store,
            config: config,
            health: health,
            role: .primary(replication),
            metrics: metrics,
            tracing: config.tracing ? JobTracing() : nil,
            push: push,
            cluster: cluster
        )
        api.sync = sync
        api.events = events
        api.register(on: router)
        return router
    }

    /// `services` run beside the server (the trace exporter).
    public static func makeApplication(
        store: Store,
        config: ServerConfiguration,
        logger: Logger,
        replication: ReplicationSource? = nil,
        sync: SyncQuorum? = nil,
        services extra: [any Service] = []
    ) -> some ApplicationProtocol {
        let parts = makeParts(store: store, config: config, logger: logger, replication: replication, metrics: OJSMetrics(), sync: sync)
        return Application(
            router: parts.router,
            server: HTTPServerSettings.server(config),
            configuration: HTTPServerSettings.application(config, serverName: "ojs-edge", logger: logger),
            services: extra + parts.services,
            logger: logger
        )
    }

    /// The primary's router and the services that run beside it: what `makeApplication`
    /// serves, and what a failover node starts each time it becomes the leader. `events` is
    /// also among the services; a failover node closes it itself when it steps down.
    public static func makeParts(
        store: Store,
        config: ServerConfiguration,
        logger: Logger,
        replication: ReplicationSource?,
        metrics: OJSMetrics,
        sync: SyncQuorum? = nil,
        cluster: ClusterView? = nil
    ) -> (router: Router<OJSRequestContext>, services: [any Service], events: EventFeed?) {
        // In serverless mode nothing runs between requests: deliveries go out from the tick.
        let push =
            config.pushDelivery
            ? PushDispatcher(
                store: store,
                logger: logger,
                metrics: metrics,
                pollMs: config.pushPollMs,
                version: config.version,
                targets: config.pushTargets
            ) : nil
        let events = makeEventFeed(store: store, config: config, logger: logger)
        let router = makeRouter(
            store: store,
            config: config,
            logger: logger,
            replication: replication,
            metrics: metrics,
            push: config.serverless ? push : nil,
            sync: sync,
            cluster: cluster,
            events: events
        )
        var services = backgroundServices(store: store, config: config, logger: logger, replication: replication, push: push)
        if let events { services.append(events) }
        return (router, services, events)
    }

    /// The primary's event feed, woken by every commit that wrote something (the writer's
    /// commit observer runs after `COMMIT`, so the feed's read sees the batch's events). nil
    /// in serverless mode, where nothing runs between requests.
    static func makeEventFeed(store: Store, config: ServerConfiguration, logger: Logger) -> EventFeed? {
        guard !config.serverless, let writer = store.writer else { return nil }
        let commits = PositionBroadcaster(writer.position.txid)
        writer.addObserver { _, _, position in
            if let position { commits.publish(position.txid) }
        }
        return EventFeed(store: store, wake: commits, settings: EventFeed.Settings(config), logger: logger)
    }

    /// What runs beside the HTTP server. Serverless mode has no ticker and no push
    /// dispatcher: the scheduler's pass runs in fetches, job GETs and `POST
    /// /ojs/v1/admin/tick`, and so do push deliveries. Span export consumes events the writer
    /// hands it (no timer, no writes); replication streams are requests.
    static func backgroundServices(
        store: Store,
        config: ServerConfiguration,
        logger: Logger,
        replication: ReplicationSource?,
        push: PushDispatcher? = nil
    ) -> [any Service] {
        var services: [any Service] = []
        if config.tracing { services.append(JobSpanService(store: store, tracing: JobTracing())) }
        if let push, !config.serverless { services.append(push) }
        if config.tickIntervalMs > 0 && !config.serverless {
            services.append(SchedulerService(store: store, intervalMs: config.tickIntervalMs, logger: logger, replication: replication))
        }
        return services
    }
}
