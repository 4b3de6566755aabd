import Foundation
import XCTest

/// A replica under faults that must not cost it its copy: a rotated replication key, and
/// transactions larger than one record.
final class ReplicaResilienceTests: XCTestCase {
    /// Done-when "Key rotation": a refused replica keeps its copy, backs off (at most about
    /// 2 requests/s, then capped), answers 503 itself, and resumes without a bootstrap when
    /// the key is restored.
    func testARefusedReplicaKeepsItsCopyBacksOffAnswersItselfAndResumesWithoutABootstrap() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_REPLICATION_KEY": "key-one"])
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        // Every request of the replica to the primary passes through this proxy, which counts them.
        let proxy = try FaultProxy(upstreamPort: cluster.primary.port, marker: "-", fault: .none)
        let replica = try await cluster.addReplica(
            "eu",
            primaryURL: "http://127.0.0.1:\(proxy.port)",
            environment: ["OJS_REPLICATION_KEY": "key-one"]
        )
        for i in 0..<20 {
            _ = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"rotate.before","args":[\#(i)]}"#)
        }
        _ = try await cluster.digestsAtOnePosition("eu")
        let generation =
            try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status", headers: Cluster.replicationAuth(cluster.primary))
            .json["generation"] as? String

        // The primary comes back with a rotated key the replica does not have.
        cluster.primary.terminate()
        cluster.primary.environment["OJS_REPLICATION_KEY"] = "key-two"
        try await cluster.primary.start()
        let refused = try await awaitReplicaState(replica, "refused")
        let start = Date()
        let before = proxy.requests
        // The rate is the measurement: count what the replica sends over a fixed window.
        try await Task.sleep(for: .seconds(10))
        let sent = proxy.requests - before
        let seconds = Date().timeIntervalSince(start)
        print("key rotation: the refused replica sent \(sent) requests in \(String(format: "%.1f", seconds)) s")
        // Stream and position report each back off from 0.5 s, doubling: about 10 requests
        // in 10 s. The old loop sent thousands per second.
        XCTAssertLessThanOrEqual(Double(sent), 2 * seconds + 4, "\(sent) requests in \(seconds) s while refused")
        XCTAssertGreaterThan(sent, 0, "it keeps trying")

        XCTAssertEqual(refused["status"] as? String, "degraded")
        XCTAssertEqual((refused["fault"] as? [String: Any])?["kind"] as? String, "refused")
        XCTAssertEqual(refused["bootstraps"] as? Int, 1, "the copy was kept")
        let health = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/health")
        XCTAssertEqual(health.status, 503)
        XCTAssertEqual(health.json["role"] as? String, "replica", "answered by the replica itself, not the primary")
        XCTAssertEqual(health.json["status"] as? String, "degraded")
        XCTAssertTrue((health.json["reason"] as? String ?? "").contains("refused"), "\(health.json)")
        let metrics = try await HTTP.exchange("GET", replica.baseURL + "/metrics")
        XCTAssertEqual(metrics.status, 200)

        // The key is restored: the replica resumes from its position.
        for i in 0..<5 {
            _ = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"rotate.during","args":[\#(i)]}"#)
        }
        cluster.primary.terminate()
        cluster.primary.environment["OJS_REPLICATION_KEY"] = "key-one"
        try await cluster.primary.start()
        _ = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"rotate.after","args":[]}"#)
        let (primary, copy) = try await cluster.digestsAtOnePosition("eu", attempts: 100)
        XCTAssertEqual(copy["sha256"] as? String, primary["sha256"] as? String)
        let status = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/replication/status", headers: Cluster.replicationAuth(replica))
        XCTAssertEqual(status.status, 200)
        XCTAssertEqual(status.json["bootstraps"] as? Int, 1, "resumed without a new snapshot")
        XCTAssertEqual(status.json["generation"] as? String, generation, "the history did not restart")
        XCTAssertTrue(status.json["fault"] is NSNull, "\(status.json)")
    }

    /// Done-when "Due burst", scaled down: one transaction larger than a record (the record
    /// limit is lowered to 64 KiB) ships in several records; no generation change, no
    /// bootstrap, and the replica converges.
    func testATransactionLargerThanOneRecordShipsInPartsWithoutANewGeneration() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_REPLICATION_RECORD_KB": "64"])
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let before = try await HTTP.exchange(
            "GET",
            cluster.primary.baseURL + "/ojs/v1/replication/status",
            headers: Cluster.replicationAuth(cluster.primary)
        ).json
        let args = String(repeating: "a", count: 3500)
        // One batch push is one transaction: about 250 × 3.5 KB of rows plus index pages.
        let jobs = (0..<250).map { #"{"type":"burst.big","args":["\#(args)",\#($0)],"options":{"queue":"burst"}}"# }
        let pushed = try await HTTP.exchange(
            "POST",
            cluster.primary.baseURL + "/ojs/v1/jobs/batch",
            json: #"{"jobs":[\#(jobs.joined(separator: ","))]}"#
        )
        XCTAssertEqual(pushed.status, 201, "\(pushed.json)")
        let (primary, copy) = try await cluster.digestsAtOnePosition("eu")
        XCTAssertEqual(copy["sha256"] as? String, primary["sha256"] as? String, "the replica converged")

        let after = try await HTTP.exchange(
            "GET",
            cluster.primary.baseURL + "/ojs/v1/replication/status",
            headers: Cluster.replicationAuth(cluster.primary)
        ).json
        XCTAssertEqual(after["generation"] as? String, before["generation"] as? String, "no new generation")
        XCTAssertGreaterThanOrEqual(after["multi_record_transactions"] as? Int ?? 0, 1, "the batch needed several records: \(after)")
        XCTAssertNil(after["last_error"] as? String)
        let status = try await HTTP.exchange("GET", try XCTUnwrap(cluster.replicas["eu"]).baseURL + "/ojs/v1/replication/status").json
        XCTAssertEqual(status["bootstraps"] as? Int, 1, "no second bootstrap")
        let read = try await HTTP.exchange("GET", cluster.replicas["eu"]!.baseURL + "/ojs/v1/queues/burst/stats")
        XCTAssertEqual((read.json["queue"] as? [String: Any])?["available"] as? Int, 250)
    }

    /// Polls the replica's own status until it reports `state`, and returns that status.
    func awaitReplicaState(_ replica: ServerProcess, _ state: String, timeout: TimeInterval = 30) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/replication/status", headers: Cluster.replicationAuth(replica)).json
            if last["state"] as? String == state { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("replica never reached \(state): \(last)")
    }
}
