import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The connection-level limits of `ServerConfiguration`, turned into what Hummingbird takes:
/// one place, so the primary and replicas enforce the same bounds.
enum HTTPServerSettings {
    static func server(_ config: ServerConfiguration) -> HTTPServerBuilder {
        let requestTimeout = TimeAmount.milliseconds(Int64(config.requestTimeoutMs))
        let maxHeaderBytes = config.maxHeaderBytes
        var http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(requestTimeout: requestTimeout, maxHeaderBytes: maxHeaderBytes)],
            idleTimeout: .milliseconds(Int64(config.idleTimeoutMs))
        )
        // The decoder counts header bytes itself; past the bound it raises headerOverflow,
        // which the guard answers with 431.
        http1.httpDecoder = .init(maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes)
        return .http1(configuration: http1)
    }

    static func application(_ config: ServerConfiguration, serverName: String, logger: Logger) -> ApplicationConfiguration {
        // Past the bound the listener stops accepting; new connections wait in the kernel's
        // backlog until one closes (the idle timeout guarantees some do).
        ApplicationConfiguration(
            address: .hostname(config.host, port: config.port),
            serverName: serverName,
            availableConnectionsDelegate: .maximum(config.maxConnections, logger: logger)
        )
    }
}
