import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OJSCore
import OJSReplication
import OJSServer
import OJSStore

/// The primary's router over a fresh store in `directory`, driven through HummingbirdTesting
/// (no scheduler tick: tests move time by their own requests).
enum TestApp {
    static func run(
        directory: URL,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path))
        defer { store.close() }
        try await run(store: store, configure: configure, body)
    }

    static func run(
        store: Store,
        replication: ReplicationSource? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var config = ServerConfiguration()
        config.testMode = true
        config.tickIntervalMs = 0
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = Application(
            router: PrimaryServer.makeRouter(store: store, config: config, logger: logger, replication: replication),
            logger: logger
        )
        try await app.test(.router, body)
    }

    static let ojsJSON: HTTPFields = [.contentType: "application/openjobspec+json"]

    static func json(_ response: TestResponse) throws -> JSONValue { try JSONParser.parse(String(buffer: response.body)) }
}
