import Hummingbird
import Logging
import ServiceLifecycle

/// Assembles a failover node's HTTP server: one listener whose responder follows the node's
/// role (`NodeRuntime.responder`), with the node runtime as a service beside it.
public enum NodeServer {
    /// `services` run beside the server (the trace exporter).
    public static func makeApplication(
        runtime: NodeRuntime,
        config: ServerConfiguration,
        logger: Logger,
        services: [any Service] = []
    ) -> some ApplicationProtocol {
        Application(
            responder: runtime.responder,
            server: HTTPServerSettings.server(config),
            configuration: HTTPServerSettings.application(config, serverName: "ojs-edge-node", logger: logger),
            services: services + [NodeRuntimeService(runtime: runtime)],
            logger: logger
        )
    }
}

/// Runs the node's state machine until graceful shutdown; the node then steps down (so
/// another node can take over at once instead of after the lease) and leaves.
struct NodeRuntimeService: Service {
    let runtime: NodeRuntime
    func run() async throws {
        await cancelWhenGracefulShutdown { await runtime.run() }
    }
}
