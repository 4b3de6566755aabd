import Foundation
import XCTest

/// A push sent to a replica whose forwarded answer is lost between the regions: the replica
/// sends it again with the same Idempotency-Key and the primary creates the job once.
final class IdempotentForwardingTests: XCTestCase {
    /// A cluster whose replica reaches the primary through a proxy that drops the answer to
    /// the first forwarded single push.
    func withLossyReplica(_ body: (_ replica: ServerProcess, _ primary: ServerProcess, _ proxy: FaultProxy) async throws -> Void) async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let proxy = try FaultProxy(upstreamPort: cluster.primary.port, marker: "POST /ojs/v1/jobs HTTP", fault: .dropResponse)
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
                "POST", replica.baseURL + "/ojs/v1/jobs", json: #"{"type":"fwd","args":[1],"options":{"queue":"fwd-keyed"}}"#,
                headers: ["Idempotency-Key": "client-key-1"])
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
            let r = try await HTTP.exchange("POST", replica.baseURL + "/ojs/v1/jobs", json: #"{"type":"fwd","args":[2],"options":{"queue":"fwd-keyless"}}"#)
            XCTAssertEqual(r.status, 201)
            XCTAssertEqual(proxy.faults, 1, "the first answer was dropped")
            XCTAssertNil(r.headers["idempotent-replayed"], "the client sent one request and sees one answer")
            let count = try await depth(primary, "fwd-keyless")
            XCTAssertEqual(count, 1)
        }
    }
}
