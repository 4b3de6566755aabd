import Foundation
import XCTest

/// Synchronous replicas (`--sync-replicas`), with a real primary and real replicas: a write is
/// answered only once a replica durably holds it, and when none can confirm it the write
/// fails retryably (or, with `--sync-degrade`, is answered and shows in the alert gauge).
final class SyncReplicaTests: XCTestCase {
    /// Every push answered 2xx is already readable on the replica's own copy when the answer
    /// arrives: read right after each answer, without a bookmark, and served by the replica
    /// itself (asynchronous replication applies in 10 ms windows and would miss most).
    func testEveryAnsweredWriteIsAlreadyOnTheReplica() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_SYNC_REPLICAS": "1", "OJS_SYNC_TIMEOUT_MS": "5000"])
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let replica = cluster.replicas["eu"]!.baseURL
        try await eventually("the primary counts the replica for the quorum", within: 10) { try await self.sync(cluster)["connected"] as? Int == 1 }
        for i in 0..<40 {
            let push = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"sync.test","args":[\#(i)]}"#)
            XCTAssertEqual(push.status, 201, "\(push.json)")
            guard let id = (push.json["job"] as? [String: Any])?["id"] as? String else { throw TestFailure("no job id: \(push.json)") }
            let read = try await HTTP.exchange("GET", replica + "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(read.status, 200, "push \(i): the answered job \(id) is not on the replica: \(read.json)")
            XCTAssertEqual(read.headers["ojs-served-by"], "replica/eu", "push \(i) was read from the replica's own copy")
        }
        // A worker's fetch and ack wait too: the completion is on the replica when acked.
        let fetch = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/workers/fetch", json: #"{"queues":["default"]}"#)
        XCTAssertEqual(fetch.status, 200, "\(fetch.json)")
        guard let job = (fetch.json["jobs"] as? [[String: Any]])?.first?["id"] as? String else { throw TestFailure("fetched nothing: \(fetch.json)") }
        let ack = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/workers/ack", json: #"{"job_id":"\#(job)"}"#)
        XCTAssertEqual(ack.status, 200, "\(ack.json)")
        let completed = try await HTTP.exchange("GET", replica + "/ojs/v1/jobs/\(job)")
        XCTAssertEqual((completed.json["job"] as? [String: Any])?["state"] as? String, "completed", "\(completed.json)")
        let status = try await HTTP.exchange("GET", replica + "/ojs/v1/replication/status").json
        XCTAssertEqual(status["sync_acks"] as? Bool, true, "the stream asked the replica for acknowledgements")
        XCTAssertGreaterThan(status["acks_sent"] as? Int ?? 0, 0)
    }

    /// With no replica to confirm it, a write is committed on the primary but answered 503
    /// `x_sync_timeout` (retryable) once the timeout passes; replaying it with its
    /// Idempotency-Key after a replica connected answers the first outcome.
    func testWithoutAReplicaAWriteFailsRetryablyAfterTheTimeout() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_SYNC_REPLICAS": "1", "OJS_SYNC_TIMEOUT_MS": "600"])
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let body = #"{"type":"sync.unconfirmed","args":[1]}"#
        let key = ["Idempotency-Key": "sync-\(UUID().uuidString)"]
        let started = Date()
        let refused = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: body, headers: key)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(refused.status, 503, "\(refused.json)")
        let error = refused.json["error"] as? [String: Any] ?? [:]
        XCTAssertEqual(error["code"] as? String, "x_sync_timeout")
        XCTAssertEqual(error["retryable"] as? Bool, true)
        XCTAssertTrue((error["message"] as? String ?? "").contains("committed on the primary"), "\(error)")
        XCTAssertGreaterThanOrEqual(elapsed, 0.55, "it waited for the timeout")
        XCTAssertLessThan(elapsed, 5, "it did not hang")
        let timeouts = try await metric(cluster.primary.baseURL, "ojs_sync_timeouts_total")
        XCTAssertGreaterThanOrEqual(timeouts, 1)

        try await cluster.addReplica("eu")
        let replayed = try await eventually("the replayed push is confirmed by the new replica", within: 15, every: .milliseconds(100)) {
            () -> HTTP.Exchange? in
            let r = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: body, headers: key)
            return r.status == 201 ? r : nil
        }
        XCTAssertEqual(replayed.headers["idempotent-replayed"], "true", "the first push was committed and is replayed, not pushed twice")
        let jobs = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/queues/default/stats")
        XCTAssertEqual(((jobs.json["stats"] as? [String: Any])?["depth"] as? Int), 1, "one job, not two: \(jobs.json)")
    }

    /// `--sync-degrade`: without a replica the write is answered 201, counted, and the alert
    /// gauge is 1; once a replica connects and holds those writes it goes back to 0.
    func testDegradedWritesAreAnsweredAndAlertUntilAReplicaHoldsThem() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_SYNC_REPLICAS": "1", "OJS_SYNC_TIMEOUT_MS": "300", "OJS_SYNC_DEGRADE": "1"])
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let before = try await metric(cluster.primary.baseURL, "ojs_sync_degraded")
        XCTAssertEqual(before, 0)
        for i in 0..<3 {
            let push = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"sync.degraded","args":[\#(i)]}"#)
            XCTAssertEqual(push.status, 201, "\(push.json)")
        }
        let degraded = try await metric(cluster.primary.baseURL, "ojs_sync_degraded")
        let degradedWrites = try await metric(cluster.primary.baseURL, "ojs_sync_degraded_writes_total")
        let timeouts = try await metric(cluster.primary.baseURL, "ojs_sync_timeouts_total")
        let status = try await sync(cluster)
        XCTAssertEqual(degraded, 1)
        XCTAssertEqual(degradedWrites, 3)
        XCTAssertEqual(timeouts, 1, "only the first write of the episode waited")
        XCTAssertEqual(status["degraded"] as? Bool, true)

        try await cluster.addReplica("eu")
        try await eventually("the gauge clears once the replica holds every degraded write", within: 15, every: .milliseconds(100)) {
            try await self.metric(cluster.primary.baseURL, "ojs_sync_degraded") == 0
        }
        let connected = try await metric(cluster.primary.baseURL, "ojs_sync_replicas_connected")
        XCTAssertEqual(connected, 1)
        let after = try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"sync.degraded","args":[9]}"#)
        XCTAssertEqual(after.status, 201)
        let recovered = try await sync(cluster)
        XCTAssertEqual(recovered["degraded"] as? Bool, false, "\(recovered)")
    }

    /// A replica killed with SIGKILL: writes fail 503 within the timeout instead of hanging,
    /// and succeed again (and are on the replica) once it is back.
    func testWritesFailFastWhileTheReplicaIsDownAndResumeAfterItRestarts() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_SYNC_REPLICAS": "1", "OJS_SYNC_TIMEOUT_MS": "1000"])
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let push = { (i: Int) in
            try await HTTP.exchange("POST", cluster.primary.baseURL + "/ojs/v1/jobs", json: #"{"type":"sync.kill","args":[\#(i)]}"#)
        }
        let first = try await push(0)
        XCTAssertEqual(first.status, 201, "\(first.json)")
        cluster.replicas["eu"]!.kill9()
        for i in 1...3 {
            let started = Date()
            let refused = try await push(i)
            let elapsed = Date().timeIntervalSince(started)
            XCTAssertEqual(refused.status, 503, "\(refused.json)")
            XCTAssertEqual((refused.json["error"] as? [String: Any])?["code"] as? String, "x_sync_timeout")
            XCTAssertLessThan(elapsed, 4, "answered within the timeout, not hung")
        }
        try await cluster.replicas["eu"]!.start()
        let accepted = try await eventually("writes succeed once the replica is back", within: 15, every: .milliseconds(100)) {
            () -> String? in
            let r = try await push(100)
            return r.status == 201 ? (r.json["job"] as? [String: Any])?["id"] as? String : nil
        }
        let read = try await HTTP.exchange("GET", cluster.replicas["eu"]!.baseURL + "/ojs/v1/jobs/\(accepted)")
        XCTAssertEqual(read.status, 200, "the accepted write is on the restarted replica")
        XCTAssertEqual(read.headers["ojs-served-by"], "replica/eu")
    }

    /// Acknowledgements count only from a region with an open stream, for the primary's
    /// history and for a txid it has shipped; anything else is refused and recorded nowhere.
    func testAcknowledgementsAreAcceptedOnlyForAnOpenStreamOfTheCurrentHistory() async throws {
        let cluster = try Cluster(primaryEnvironment: ["OJS_SYNC_REPLICAS": "1"])
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let status = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status").json
        guard let generation = status["generation"] as? String, let txid = status["txid"] as? Int else {
            throw TestFailure("no generation: \(status)")
        }
        func ack(_ region: String, _ txid: Int, _ generation: String) async throws -> HTTP.Exchange {
            try await HTTP.exchange(
                "POST",
                cluster.primary.baseURL + "/ojs/v1/replication/replicas/\(region)/ack",
                json: #"{"durable_txid":\#(txid),"generation":"\#(generation)"}"#
            )
        }
        let stranger = try await ack("nowhere", txid, generation)
        XCTAssertEqual(stranger.status, 409, "\(stranger.json)")
        XCTAssertEqual((stranger.json["error"] as? [String: Any])?["code"] as? String, "conflict")
        let otherHistory = try await ack("eu", txid, "00000000-0000-0000-0000-000000000000")
        XCTAssertEqual((otherHistory.json["error"] as? [String: Any])?["code"] as? String, "x_generation_mismatch", "\(otherHistory.json)")
        let future = try await ack("eu", txid + 1000, generation)
        XCTAssertEqual(future.status, 400, "a txid the primary never shipped: \(future.json)")
        let accepted = try await ack("eu", txid, generation)
        XCTAssertEqual(accepted.status, 200, "\(accepted.json)")
        let sync = try await sync(cluster)
        XCTAssertEqual(sync["connected"] as? Int, 1, "only eu counts: \(sync)")
    }

    /// The primary's `sync` object from its replication status.
    private func sync(_ cluster: Cluster) async throws -> [String: Any] {
        let status = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status").json
        return status["sync"] as? [String: Any] ?? [:]
    }

    /// One unlabelled series' value from `/metrics` (0 when it is not there yet).
    private func metric(_ base: String, _ name: String) async throws -> Double {
        guard let url = URL(string: base + "/metrics") else { throw TestFailure("bad URL \(base)") }
        let (data, _) = try await HTTP.session.data(from: url)
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)) ?? .nan
        }
        return 0
    }
}
