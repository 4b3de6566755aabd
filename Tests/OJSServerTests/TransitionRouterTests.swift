import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import OJSServer

/// What a failover node answers between roles: its own state with 503, everything else a
/// retryable 503 not_primary — never 404, which a client reads as "no such job".
final class TransitionRouterTests: XCTestCase {
    func testEveryPathButTheNodesOwnStateIsRefusedAsNotPrimary() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let view = ClusterView(cluster: "c", node: "a", advertiseURL: "http://127.0.0.1:1")
        let router = TransitionRouter.make(config: ServerConfiguration(), logger: logger, metrics: OJSMetrics(), cluster: view)
        let app = Application(router: router, logger: logger)
        try await app.test(.router) { client in
            let requests: [(HTTPRequest.Method, String)] = [
                (.get, "/ojs/v1/jobs/019a0000-0000-7000-8000-000000000000"), (.post, "/ojs/v1/jobs"), (.post, "/ojs/v1/workers/fetch"),
                (.get, "/ojs/v1/replication/digest"), (.get, "/ojs/v1/queues"), (.get, "/elsewhere"),
            ]
            for (method, path) in requests {
                try await client.execute(uri: path, method: method) { response in
                    XCTAssertEqual(response.status, .serviceUnavailable, "\(method) \(path)")
                    XCTAssertTrue(String(buffer: response.body).contains("not_primary"), "\(method) \(path): \(String(buffer: response.body))")
                }
            }
            for path in ["/ojs/v1/health", "/ojs/v1/replication/status"] {
                try await client.execute(uri: path, method: .get) { response in
                    XCTAssertEqual(response.status, .serviceUnavailable, path)
                    XCTAssertTrue(String(buffer: response.body).contains("\"cluster\""), path)
                }
            }
        }
    }
}
