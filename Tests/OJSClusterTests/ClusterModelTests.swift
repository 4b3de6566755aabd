import OJSCluster
import XCTest

/// The election's rules and records, without etcd.
final class ClusterModelTests: XCTestCase {
    func testPositionRule() {
        let mine = NodePosition(generation: "g1", txid: 10, checksum: 1, role: .replica)
        XCTAssertTrue(mine.isOutranked(by: NodePosition(generation: "g1", txid: 11, checksum: 2, role: .replica)))
        XCTAssertFalse(mine.isOutranked(by: NodePosition(generation: "g1", txid: 10, checksum: 1, role: .replica)), "a tie does not block")
        XCTAssertFalse(mine.isOutranked(by: NodePosition(generation: "g1", txid: 9, checksum: 1, role: .primary)))
        XCTAssertTrue(mine.isOutranked(by: NodePosition(generation: "g2", txid: 11, checksum: 1, role: .replica)))
        XCTAssertFalse(mine.isOutranked(by: NodePosition(generation: "g2", txid: 10, checksum: 1, role: .replica)))
    }

    func testLeaseSecondsAndFenceMargin() {
        func seconds(_ ms: Int) -> Int { ClusterMemberConfig(cluster: "c", name: "n", advertiseURL: "u", leaseTTLms: ms).leaseSeconds }
        XCTAssertEqual(seconds(500), 2, "etcd's minimum")
        XCTAssertEqual(seconds(2000), 2)
        XCTAssertEqual(seconds(2001), 3, "rounded up: never shorter than asked")
        XCTAssertEqual(seconds(10_000), 10)
        XCTAssertEqual(ClusterMemberConfig.fenceMarginMs(ttlMs: 1000), 250)
        XCTAssertEqual(ClusterMemberConfig.fenceMarginMs(ttlMs: 10_000), 2000)
    }

    func testRecordsRoundTripThroughTheirJSON() throws {
        let position = NodePosition(generation: "0b9c", txid: 42, checksum: 0xFFFF_FFFF, role: .primary)
        let node = NodeRecord(name: "eu", url: "http://eu:8080", position: position, updatedAt: "2026-01-01T00:00:00.000Z")
        let kv = EtcdKeyValue(key: "k", value: Array(node.json.jsonText.utf8), createRevision: 3, modRevision: 9, version: 2, lease: 77)
        let parsed = try XCTUnwrap(NodeRecord(kv))
        XCTAssertEqual(parsed.position, position)
        XCTAssertEqual(parsed.lease, 77)
        XCTAssertEqual(parsed.modRevision, 9)

        let leader = LeaderRecord(name: "eu", url: "http://eu:8080", epoch: 0, lease: 77)
        let stored = EtcdKeyValue(key: "k", value: Array(leader.json.jsonText.utf8), createRevision: 12, modRevision: 12, version: 1, lease: 77)
        XCTAssertEqual(LeaderRecord(stored)?.epoch, 12, "the epoch is etcd's create revision, not the JSON's copy")
        XCTAssertNil(LeaderRecord(EtcdKeyValue(key: "k", value: Array("not json".utf8), createRevision: 1, modRevision: 1, version: 1, lease: 0)))
    }

    func testKeysAndNames() {
        let keys = ClusterKeys(cluster: "prod")
        XCTAssertEqual(keys.leader, "/ojs-edge/prod/leader")
        XCTAssertEqual(keys.node("eu-west-1"), "/ojs-edge/prod/nodes/eu-west-1")
        XCTAssertTrue(ClusterKeys.isValidName("eu-west_1.a"))
        XCTAssertFalse(ClusterKeys.isValidName("a/b"))
        XCTAssertFalse(ClusterKeys.isValidName(""))
    }
}
