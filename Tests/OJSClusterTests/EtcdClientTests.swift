import Foundation
import OJSCluster
import XCTest

/// The gateway client against a real etcd.
final class EtcdClientTests: XCTestCase {
    func testKeysLiveWhileTheLeaseIsKeptAliveAndVanishWhenItExpires() async throws {
        try await ClusterHarness.with { harness in
            let etcd = harness.client
            let lease = try await etcd.grantLease(ttlSeconds: 2)
            let written = try await etcd.put("/t/leased", Array("v".utf8), lease: lease)
            let kv = try await etcd.get("/t/leased")
            XCTAssertEqual(kv?.value, Array("v".utf8))
            XCTAssertEqual(kv?.lease, lease)
            XCTAssertEqual(kv?.createRevision, written)
            let ttl = try await etcd.keepAliveOnce(lease: lease)
            XCTAssertEqual(ttl, 2)

            // No more keep-alives: etcd expires the lease and deletes its key.
            try await eventually("the unrenewed lease's key is gone", within: 8) { try await etcd.get("/t/leased") == nil }
            do {
                _ = try await etcd.keepAliveOnce(lease: lease)
                XCTFail("keep-alive of an expired lease succeeded")
            } catch let error as EtcdError {
                XCTAssertEqual(error, .leaseNotFound(lease))
            }
            do {
                try await etcd.put("/t/other", [1], lease: lease)
                XCTFail("put under an expired lease succeeded")
            } catch let error as EtcdError {
                XCTAssertEqual(error, .leaseNotFound(lease))
            }
        }
    }

    func testRevokeDeletesTheKeysAtOnce() async throws {
        try await ClusterHarness.with { harness in
            let etcd = harness.client
            let lease = try await etcd.grantLease(ttlSeconds: 60)
            try await etcd.put("/t/a", [1], lease: lease)
            try await etcd.put("/t/b", [2], lease: nil)
            try await etcd.revoke(lease: lease)
            let leased = try await etcd.get("/t/a")
            XCTAssertNil(leased)
            let unleased = try await etcd.list(prefix: "/t/")
            XCTAssertEqual(unleased.map(\.key), ["/t/b"])
            do {
                try await etcd.revoke(lease: lease)
                XCTFail("revoking a revoked lease succeeded")
            } catch let error as EtcdError {
                XCTAssertEqual(error, .leaseNotFound(lease))
            }
        }
    }

    func testCreateIfAbsentCreatesOnceAcrossTwoLeases() async throws {
        try await ClusterHarness.with { harness in
            let etcd = harness.client
            let first = try await etcd.grantLease(ttlSeconds: 30)
            let second = try await etcd.grantLease(ttlSeconds: 30)
            async let a = etcd.createIfAbsent("/t/leader", Array("a".utf8), lease: first)
            async let b = etcd.createIfAbsent("/t/leader", Array("b".utf8), lease: second)
            let (ra, rb) = try await (a, b)
            XCTAssertEqual([ra.created, rb.created].filter { $0 }.count, 1, "exactly one create wins: \(ra) \(rb)")
            XCTAssertEqual(ra.revision, rb.revision, "both report the one key's create revision")
            let kv = try await etcd.get("/t/leader")
            let winner = ra.created ? first : second
            XCTAssertEqual(kv?.lease, winner)
            XCTAssertEqual(kv?.createRevision, ra.revision)
            // The winner retrying (an answer lost) is told it holds the key.
            let retried = try await etcd.createIfAbsent("/t/leader", [0], lease: winner)
            XCTAssertEqual(retried.created, true)
            XCTAssertEqual(retried.revision, ra.revision)

            let loser = ra.created ? second : first
            let notHeld = try await etcd.deleteIfLease("/t/leader", lease: loser)
            XCTAssertFalse(notHeld)
            let stale = try await etcd.compareAndDelete("/t/leader", modRevision: ra.revision - 1)
            XCTAssertFalse(stale)
            let held = try await etcd.deleteIfLease("/t/leader", lease: winner)
            XCTAssertTrue(held)
            let again = try await etcd.createIfAbsent("/t/leader", [1], lease: loser)
            XCTAssertTrue(again.created)
            XCTAssertGreaterThan(again.revision, ra.revision, "a new incarnation has a higher create revision")
            let current = try await etcd.revision()
            XCTAssertGreaterThanOrEqual(current, again.revision)
        }
    }

    func testADeadEndpointFallsThroughToTheNextAndAllDeadIsUnreachable() async throws {
        try await ClusterHarness.with { harness in
            // Port 1 on loopback: nothing listens, the connect is refused at once.
            let etcd = EtcdClient(endpoints: ["http://127.0.0.1:1", harness.etcd.endpoint], client: harness.http)
            try await etcd.put("/t/k", [7], lease: nil)
            XCTAssertEqual(etcd.currentEndpoint, harness.etcd.endpoint, "the endpoint that answered is tried first next time")
            let kv = try await etcd.get("/t/k")
            XCTAssertEqual(kv?.value, [7])

            let dead = EtcdClient(endpoints: ["http://127.0.0.1:1"], client: harness.http)
            do {
                _ = try await dead.get("/t/k")
                XCTFail("a dead endpoint answered")
            } catch let error as EtcdError {
                guard case .unreachable(let endpoints, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(endpoints, ["http://127.0.0.1:1"])
            }
        }
    }
}
