import Hummingbird
import Logging
import OJSStore
import ServiceLifecycle

/// Assembles the primary: router, middleware, scheduler.
public enum PrimaryServer {
    public static func makeRouter(store: Store, config: ServerConfiguration, logger: Logger) -> Router<OJSRequestContext> {
        let router = Router(context: OJSRequestContext.self)
        let health = HealthState()
        router.add(middleware: OJSMiddleware(logger: logger, health: health))
        OJSAPI(store: store, config: config, health: health).register(on: router)
        return router
    }

    public static func makeApplication(store: Store, config: ServerConfiguration, logger: Logger) -> some ApplicationProtocol {
        let router = makeRouter(store: store, config: config, logger: logger)
        var services: [any Service] = []
        if config.tickIntervalMs > 0 {
            services.append(SchedulerService(store: store, intervalMs: config.tickIntervalMs, logger: logger))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "ojs-edge"),
            services: services,
            logger: logger)
    }
}
