import Foundation
import XCTest

/// WAL shipping end to end, with real processes: a primary, replicas bootstrapping from its
/// snapshot and tailing its stream, clients talking to either.
final class ReplicationTests: XCTestCase {
    func testReplicasAreIdenticalToThePrimaryAfterAMixedWorkload() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu", "ap"])
        // Half the work goes straight to the primary, half through a replica (forwarded).
        let primaryURL = cluster.primary.baseURL
        let replicaURL = try XCTUnwrap(cluster.replicas["eu"]).baseURL
        async let direct = Workload.mixed(base: primaryURL, operations: 150, seed: 1)
        async let viaReplica = Workload.mixed(base: replicaURL, operations: 150, seed: 2)
        let pushed = try await direct + viaReplica
        XCTAssertGreaterThan(pushed.count, 100)
        for region in ["eu", "ap"] {
            let (primary, replica) = try await cluster.digestsAtOnePosition(region)
            XCTAssertEqual(
                replica["sha256"] as? String,
                primary["sha256"] as? String,
                "\(region) differs from the primary at txid \(primary["txid"] ?? "?")"
            )
            XCTAssertGreaterThan(primary["rows"] as? Int ?? 0, 100)
        }
    }

    func testReadersNeverSeePartOfABatch() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let replica = cluster.replicas["eu"]!.baseURL
        let primary = cluster.primary.baseURL
        let batches = 25
        let writer = Task {
            for b in 0..<batches {
                let jobs = (0..<100).map { #"{"type":"atomic.batch","args":[\#(b),\#($0)],"options":{"queue":"atomic"}}"# }
                let r = try await HTTP.exchange("POST", primary + "/ojs/v1/jobs/batch", json: #"{"jobs":[\#(jobs.joined(separator: ","))]}"#)
                XCTAssertEqual(r.status, 201)
            }
        }
        var observed: [Int] = []
        for _ in 0..<100_000 where observed.last != batches * 100 {
            let r = try await HTTP.exchange("GET", replica + "/ojs/v1/queues/atomic/stats")
            guard r.headers["ojs-served-by"] == "replica/eu" else { continue }
            observed.append(((r.json["queue"] as? [String: Any])?["available"] as? Int) ?? -1)
        }
        try await writer.value
        XCTAssertEqual(observed.last, batches * 100, "the replica caught up")
        XCTAssertTrue(observed.allSatisfy { $0 % 100 == 0 }, "a read saw part of a batch: \(observed.filter { $0 % 100 != 0 }.prefix(5))")
        XCTAssertEqual(observed, observed.sorted(), "reads went backwards")
    }

    func testAPushReadBackWithItsBookmarkAtAReplicaIsAlwaysFound() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let replica = cluster.replicas["eu"]!.baseURL
        var servedLocally = 0
        for i in 0..<150 {
            let push = try await HTTP.exchange("POST", replica + "/ojs/v1/jobs", json: #"{"type":"ryw.test","args":[\#(i)]}"#)
            XCTAssertEqual(push.status, 201)
            XCTAssertEqual(push.headers["ojs-served-by"], "primary")
            let id = try XCTUnwrap((push.json["job"] as? [String: Any])?["id"] as? String)
            let bookmark = try XCTUnwrap(push.headers["ojs-bookmark"])
            let read = try await HTTP.exchange("GET", replica + "/ojs/v1/jobs/\(id)", headers: ["OJS-Bookmark": bookmark])
            XCTAssertEqual(read.status, 200, "job \(id) not found with bookmark \(bookmark)")
            if read.headers["ojs-served-by"] == "replica/eu" {
                servedLocally += 1
                XCTAssertNotNil(read.headers["ojs-replica-lag-ms"])
                XCTAssertGreaterThanOrEqual(read.headers["ojs-bookmark"] ?? "", bookmark, "served from a state older than the bookmark")
            }
        }
        XCTAssertGreaterThan(servedLocally, 100, "bookmarked reads should normally be served by the replica")
    }

    func testAReplicaKilledMidStreamCatchesUpAndIsIdentical() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let primaryURL = cluster.primary.baseURL
        let load = Task { try await Workload.mixed(base: primaryURL, operations: 300, seed: 7) }
        // Kill it while records are flowing, then restart it while the load goes on.
        for _ in 0..<3 {
            _ = try await Workload.mixed(base: cluster.primary.baseURL, operations: 20, seed: 9)
            cluster.replicas["eu"]!.kill9()
            _ = try await Workload.mixed(base: cluster.primary.baseURL, operations: 20, seed: 11)
            try await cluster.replicas["eu"]!.start()
        }
        _ = try await load.value
        let (primary, replica) = try await cluster.digestsAtOnePosition("eu")
        XCTAssertEqual(replica["sha256"] as? String, primary["sha256"] as? String)
        let status = try await HTTP.exchange("GET", cluster.replicas["eu"]!.baseURL + "/ojs/v1/replication/status").json
        XCTAssertEqual(status["bootstraps"] as? Int, 0, "a restart resumes from its position, no new snapshot")
    }

    func testAReplicaBehindTheRetainedLogBootstrapsAgain() async throws {
        // Tiny segments and retention, so a short outage outlives the log.
        let cluster = try Cluster(primaryEnvironment: ["OJS_REPLICATION_SEGMENT_KB": "16", "OJS_REPLICATION_RETENTION_KB": "32"])
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        cluster.replicas["eu"]!.kill9()
        let blob = String(repeating: "x", count: 2000)
        for i in 0..<120 {
            _ = try await HTTP.exchange(
                "POST",
                cluster.primary.baseURL + "/ojs/v1/jobs",
                json: #"{"type":"retention.test","args":["\#(blob)",\#(i)]}"#
            )
        }
        // Wait for retention to trim the oldest segments (the scheduler applies it every second;
        // a count of polls, not a deadline, ran out before the first pass on a busy machine).
        let first = try await eventually("retention trims the oldest segments", within: 15, every: .milliseconds(50)) { () -> Int? in
            let s = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status").json
            let first = ((s["log"] as? [String: Any])?["first_txid"] as? Int) ?? 0
            if first > 1 { return first }
            _ = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"retention.tick","args":[]}"#)
            return nil
        }
        XCTAssertGreaterThan(first, 1, "the log was trimmed")
        try await cluster.replicas["eu"]!.start()
        let (primary, replica) = try await cluster.digestsAtOnePosition("eu")
        XCTAssertEqual(replica["sha256"] as? String, primary["sha256"] as? String)
        let status = try await HTTP.exchange("GET", cluster.replicas["eu"]!.baseURL + "/ojs/v1/replication/status").json
        XCTAssertEqual(status["bootstraps"] as? Int, 1, "it re-bootstrapped from a snapshot")
    }

    func testACorruptedByteInAStreamedRecordIsDetectedAndNeverApplied() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        // The replica reaches the primary through a proxy that damages one byte of the first
        // record stream: 20 bytes into the body lands inside the first record's header.
        let proxy = try FaultProxy(upstreamPort: cluster.primary.port, marker: "/ojs/v1/replication/stream", fault: .flipByte(bodyOffset: 20))
        let replica = try await cluster.addReplica("eu", primaryURL: "http://127.0.0.1:\(proxy.port)")
        for i in 0..<30 {
            _ = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"corrupt.test","args":[\#(i)]}"#)
        }
        let (primary, copy) = try await cluster.digestsAtOnePosition("eu")
        XCTAssertEqual(proxy.faults, 1, "the proxy damaged the stream once")
        XCTAssertEqual(copy["sha256"] as? String, primary["sha256"] as? String, "the damaged record was not applied")
        let status = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/replication/status").json
        // The damaged record was never applied, so the copy is intact: the replica reconnects
        // from its applied position instead of throwing the copy away.
        XCTAssertEqual(status["bootstraps"] as? Int, 1, "verification failed, the replica resumed without a new snapshot")
        XCTAssertGreaterThanOrEqual(status["records_applied"] as? Int ?? 0, 30)
    }

    func testTheReplicationKeyGuardsTheStream() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_REPLICATION_KEY": "s3cret"])
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let anonymous = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/snapshot")
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertEqual((anonymous.json["error"] as? [String: Any])?["code"] as? String, "unauthorized")
        let wrong = try await HTTP.exchange(
            "GET",
            cluster.primary.baseURL + "/ojs/v1/replication/stream?after=0",
            headers: ["Authorization": "Bearer nope"]
        )
        XCTAssertEqual(wrong.status, 401)
        let keyed = try await HTTP.exchange(
            "GET",
            cluster.primary.baseURL + "/ojs/v1/replication/snapshot",
            headers: ["Authorization": "Bearer s3cret"]
        )
        XCTAssertEqual(keyed.status, 200)
    }
}
