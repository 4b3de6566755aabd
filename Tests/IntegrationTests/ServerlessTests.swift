import Foundation
import XCTest

/// `serve --serverless` as a platform runs it: the flag parses, health says so, and the tick
/// endpoint answers on the primary and through a replica (forwarded like any write).
final class ServerlessTests: XCTestCase {
    func testServerlessPrimaryTicksDirectlyAndThroughAReplica() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_SERVERLESS": "1", "OJS_COMPLETED_RETENTION_SECONDS": "3600"])
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let health = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/health")
        XCTAssertEqual(health.json["serverless"] as? Bool, true)
        let status = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status")
        XCTAssertEqual(status.json["serverless"] as? Bool, true)

        let direct = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/admin/tick")
        XCTAssertEqual(direct.status, 200)
        XCTAssertEqual(direct.json["serverless"] as? Bool, true)
        XCTAssertEqual(direct.json["promoted"] as? Int, 0)

        let replica = try XCTUnwrap(cluster.replicas["eu"])
        let forwarded = try await HTTP.exchange("POST", replica.baseURL + "/ojs/v1/admin/tick")
        XCTAssertEqual(forwarded.status, 200)
        XCTAssertEqual(forwarded.json["serverless"] as? Bool, true, "the primary answered")
        XCTAssertEqual(forwarded.headers["ojs-served-by"], "primary")
    }
}
