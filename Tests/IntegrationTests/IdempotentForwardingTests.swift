import Foundation
import XCTest

/// Writes sent to a replica whose forwarded answer is lost between the regions: the replica
/// sends them again with the same idempotency key, and the primary runs each once. A push is
/// created once; a worker's fetch claims once and its ack settles once, and the client can
/// replay either with the same `X-Request-Id` and get the first outcome.
final class IdempotentForwardingTests: XCTestCase {
    /// A cluster whose replica reaches the primary through a proxy that drops the answers to
    /// the first forwarded requests containing each marker, as many as the marker's count (by
    /// default, the first single push).
    func withLossyReplica(
        markers: [String: Int] = ["POST /ojs/v1/jobs HTTP": 1],
        _ body: (_ replica: ServerProcess, _ primary: ServerProcess, _ proxy: FaultProxy) async throws -> Void
    ) async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let proxy = try FaultProxy(upstreamPort: cluster.primary.port, markers: markers, fault: .dropResponse)
        let replica = try await cluster.addReplica("eu", primaryURL: "http://127.0.0.1:\(proxy.port)")
        try await body(replica, cluster.primary, proxy)
    }

    func depth(_ primary: ServerProcess, _ queue: String) async throws -> Int? {
        let stats = try await HTTP.exchange("GET", primary.baseURL + "/ojs/v1/queues/\(queue)/stats")
        return (stats.json["stats"] as? [String: Any])?["depth"] as? Int
    }

    func testAClientKeyedPushWhoseAnswerIsDroppedIsRetriedAndCreatesOneJob() async throws {
        try await withLossyReplica { replica, primary, proxy in
            let r = try await HTTP.exchange(
                "POST",
                replica.baseURL + "/ojs/v1/jobs",
                json: #"{"type":"fwd","args":[1],"options":{"queue":"fwd-keyed"}}"#,
                headers: ["Idempotency-Key": "client-key-1"]
            )
            XCTAssertEqual(r.status, 201)
            XCTAssertEqual(proxy.faults, 1, "the first answer was dropped")
            XCTAssertEqual(r.headers["idempotent-replayed"], "true", "the retry was answered from the first run's record")
            let id = (r.json["job"] as? [String: Any])?["id"] as? String
            XCTAssertEqual(r.headers["location"], id.map { "/ojs/v1/jobs/\($0)" })
            let count = try await depth(primary, "fwd-keyed")
            XCTAssertEqual(count, 1)
        }
    }

    func testAKeylessPushGetsAKeyAtTheReplicaSoItsRetryCreatesOneJob() async throws {
        try await withLossyReplica { replica, primary, proxy in
            let r = try await HTTP.exchange(
                "POST",
                replica.baseURL + "/ojs/v1/jobs",
                json: #"{"type":"fwd","args":[2],"options":{"queue":"fwd-keyless"}}"#
            )
            XCTAssertEqual(r.status, 201)
            XCTAssertEqual(proxy.faults, 1, "the first answer was dropped")
            XCTAssertNil(r.headers["idempotent-replayed"], "the client sent one request and sees one answer")
            let count = try await depth(primary, "fwd-keyless")
            XCTAssertEqual(count, 1)
        }
    }

    // MARK: a worker's fetch, ack and nack

    func push(_ primary: ServerProcess, queue: String) async throws -> String {
        let r = try await HTTP.exchange(
            "POST",
            primary.baseURL + "/ojs/v1/jobs",
            json: #"{"type":"fwd.work","args":[],"options":{"queue":"\#(queue)"}}"#
        )
        guard r.status == 201, let id = (r.json["job"] as? [String: Any])?["id"] as? String else { throw TestFailure("push failed: \(r.status)") }
        return id
    }

    func fetch(_ replica: ServerProcess, queue: String, requestId: String) async throws -> HTTP.Exchange {
        try await HTTP.exchange(
            "POST",
            replica.baseURL + "/ojs/v1/workers/fetch",
            json: #"{"queues":["\#(queue)"],"count":1,"worker_id":"w-fwd"}"#,
            headers: ["X-Request-Id": requestId]
        )
    }

    func jobIds(_ r: HTTP.Exchange) -> [String] { (r.json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }

    /// The job as the primary has it.
    func job(_ primary: ServerProcess, _ id: String) async throws -> [String: Any] {
        try await HTTP.exchange("GET", primary.baseURL + "/ojs/v1/jobs/\(id)").json["job"] as? [String: Any] ?? [:]
    }

    func testAFetchAndAnAckWhoseAnswersAreLostAreRetriedAndReplayedNotRepeated() async throws {
        let markers = ["POST /ojs/v1/workers/fetch HTTP": 1, "POST /ojs/v1/workers/ack HTTP": 1]
        try await withLossyReplica(markers: markers) { replica, primary, proxy in
            let id = try await push(primary, queue: "fwd-work")
            let fetched = try await fetch(replica, queue: "fwd-work", requestId: "fetch-lost-1")
            XCTAssertEqual(fetched.status, 200)
            XCTAssertEqual(proxy.faults, 1, "the first answer to the fetch was dropped")
            XCTAssertEqual(jobIds(fetched), [id])
            XCTAssertEqual(fetched.headers["idempotent-replayed"], "true", "the replica's retry was answered from the first run's record")

            let replay = try await fetch(replica, queue: "fwd-work", requestId: "fetch-lost-1")
            XCTAssertEqual(replay.status, 200)
            XCTAssertEqual(jobIds(replay), [id], "the replay returns the job the first fetch claimed")
            XCTAssertEqual(replay.headers["idempotent-replayed"], "true")
            let claimed = try await job(primary, id)
            XCTAssertEqual(claimed["attempt"] as? Int, 1, "one claim, not three")
            XCTAssertEqual(claimed["state"] as? String, "active")
            let other = try await fetch(replica, queue: "fwd-work", requestId: "fetch-other")
            XCTAssertEqual(jobIds(other), [], "another request id is another fetch, and the queue holds nothing more")

            let ackBody = #"{"job_id":"\#(id)","result":{"ok":true}}"#
            let ack = try await HTTP.exchange("POST", replica.baseURL + "/ojs/v1/workers/ack", json: ackBody, headers: ["X-Request-Id": "ack-lost-1"])
            XCTAssertEqual(proxy.faults, 2, "the first answer to the ack was dropped")
            XCTAssertEqual(ack.status, 200, "the retried ack gets the first answer, not 409 for a job already completed")
            XCTAssertEqual(ack.json["acknowledged"] as? Bool, true)
            let ackReplay = try await HTTP.exchange(
                "POST",
                replica.baseURL + "/ojs/v1/workers/ack",
                json: ackBody,
                headers: ["X-Request-Id": "ack-lost-1"]
            )
            XCTAssertEqual(ackReplay.status, 200)
            XCTAssertEqual(ackReplay.json["state"] as? String, "completed")
            let done = try await job(primary, id)
            XCTAssertEqual(done["state"] as? String, "completed")
            XCTAssertEqual(done["attempt"] as? Int, 1)
        }
    }

    func testAnAnswerLostOnEveryTryIs504OutcomeUnknownAndTheReplayReturnsTheFirstClaim() async throws {
        try await withLossyReplica(markers: ["POST /ojs/v1/workers/fetch HTTP": .max]) { replica, primary, proxy in
            let id = try await push(primary, queue: "fwd-unknown")
            let lost = try await fetch(replica, queue: "fwd-unknown", requestId: "fetch-unknown-1")
            XCTAssertEqual(lost.status, 504)
            let error = lost.json["error"] as? [String: Any]
            XCTAssertEqual(error?["code"] as? String, "x_outcome_unknown")
            XCTAssertEqual(error?["retryable"] as? Bool, true)
            let details = error?["details"] as? [String: Any]
            XCTAssertEqual(details?["replay_safe"] as? Bool, true)
            XCTAssertEqual(details?["request_id"] as? String, "fetch-unknown-1")
            XCTAssertGreaterThan(proxy.faults, 1, "the replica tried again before giving up")
            let claimed = try await job(primary, id)
            XCTAssertEqual(claimed["state"] as? String, "active", "the first try did claim the job")

            proxy.disarm()
            let replay = try await fetch(replica, queue: "fwd-unknown", requestId: "fetch-unknown-1")
            XCTAssertEqual(replay.status, 200)
            XCTAssertEqual(jobIds(replay), [id], "the replay hands over the job the lost fetch claimed")
            let after = try await job(primary, id)
            XCTAssertEqual(after["attempt"] as? Int, 1, "claimed once")
        }
    }

    func testAForwardThatNeverReachedThePrimaryIs503NotOutcomeUnknown() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["gone"])
        guard let replica = cluster.replicas["gone"] else { throw TestFailure("no replica") }
        cluster.primary.terminate()
        let r = try await fetch(replica, queue: "fwd-gone", requestId: "fetch-gone-1")
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual((r.json["error"] as? [String: Any])?["code"] as? String, "unavailable")
    }
}
