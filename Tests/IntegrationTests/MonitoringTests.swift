import Foundation
import XCTest

/// Keys between clients, replicas and the primary, with real processes.
final class AuthTests: XCTestCase {
    func testAReplicaChecksKeysItselfAndForwardsTheClientsCredentials() async throws {
        let keys = ["OJS_API_KEY": "client-key", "OJS_REPLICATION_KEY": "node-key"]
        let cluster = try Cluster(primaryEnvironment: keys)
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let replica = try await cluster.addReplica("eu", environment: keys).baseURL
        let anonymous = try await HTTP.exchange("POST", replica + "/ojs/v1/jobs", json: #"{"type":"auth.test","args":[]}"#)
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual(anonymous.headers["ojs-served-by"], nil, "refused by the replica itself, never forwarded")
        let pushed = try await HTTP.exchange(
            "POST",
            replica + "/ojs/v1/jobs",
            json: #"{"type":"auth.test","args":[]}"#,
            headers: ["Authorization": "Bearer client-key"]
        )
        XCTAssertEqual(pushed.status, 201)
        XCTAssertEqual(pushed.headers["ojs-served-by"], "primary")
        let read = try await HTTP.exchange("GET", replica + "/ojs/v1/queues/default/stats", headers: ["Authorization": "Bearer client-key"])
        XCTAssertEqual(read.status, 200)
        let node = try await HTTP.exchange("GET", replica + "/ojs/v1/jobs/whatever", headers: ["Authorization": "Bearer node-key"])
        XCTAssertEqual(node.status, 401, "the replication key is not an API key")
    }

    func testServerRefusesAnOpenListenerWithoutAKey() throws {
        let (status, text) = try Command.run(
            ServerProcess.binary,
            [
                "serve", "--host", "0.0.0.0", "--port", String(try ServerProcess.freePort()), "--data-dir",
                NSTemporaryDirectory() + "ojs-refuse-\(UUID().uuidString)",
            ],
            capture: .standardError
        )
        XCTAssertEqual(status, 78)
        XCTAssertTrue(text.contains("OJS_API_KEY"), text)
    }
}

/// Lag visible everywhere, and the status command's exit codes, with real processes.
final class MonitoringTests: XCTestCase {
    func runStatus(_ args: [String]) throws -> (Int32, String) {
        try Command.run(ServerProcess.binary, ["status"] + args)
    }

    func testStoppedReplicaTurnsDisconnectedEverywhereAndStatusFails() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        _ = try await Workload.mixed(base: cluster.primary.baseURL, operations: 30, seed: 3)
        _ = try await cluster.caughtUpDigest("eu")
        // Healthy: the replica reports its position, so the primary shows it streaming.
        try await eventually("the primary shows the replica streaming", within: 5, every: .milliseconds(100)) {
            let s = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status").json
            return ((s["replicas"] as? [[String: Any]])?.first?["state"] as? String) == "streaming"
        }
        let (ok, table) = try runStatus(["--primary", cluster.primary.baseURL, "--max-lag", "5000"])
        XCTAssertEqual(ok, 0, table)
        XCTAssertTrue(table.contains("eu"), table)
        let metrics = try await HTTP.exchange("GET", cluster.primary.baseURL + "/metrics")
        XCTAssertEqual(metrics.status, 200)

        cluster.replicas["eu"]!.kill9()
        try await eventually("the primary shows the stopped replica disconnected", within: 5, every: .milliseconds(100)) {
            let s = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status").json
            return ((s["replicas"] as? [[String: Any]])?.first?["state"] as? String) == "disconnected"
        }
        let (failed, alert) = try runStatus(["--primary", cluster.primary.baseURL, "--max-lag", "5000"])
        XCTAssertEqual(failed, 1, alert)
        XCTAssertTrue(alert.contains("ALERT: replica eu is disconnected"), alert)
        let (unreachable, _) = try runStatus(["--primary", "http://127.0.0.1:1"])
        XCTAssertEqual(unreachable, 2)
    }

    func testReplicaHealthDegradesWhenThePrimaryIsGone() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let health = cluster.replicas["eu"]!.baseURL + "/ojs/v1/health"
        try await eventually("the replica is streaming", within: 5, every: .milliseconds(100)) {
            let before = try await HTTP.exchange("GET", health)
            XCTAssertEqual(before.status, 200)
            return (before.json["replication"] as? [String: Any])?["state"] as? String == "streaming"
        }
        cluster.primary.kill9()
        // The stream's watchdog notices silence after 5 s (heartbeats stop); then health is 503.
        let status = try await eventually("a replica cut off from its primary reports degraded health", within: 15, every: .milliseconds(200)) {
            let status = try await HTTP.exchange("GET", health).status
            return status == 200 ? nil : status
        }
        XCTAssertEqual(status, 503, "a replica cut off from its primary reports degraded health")
        let body = try await HTTP.exchange("GET", health).json
        XCTAssertEqual(body["status"] as? String, "degraded")
    }
}
