import Foundation
import OJSCluster
import XCTest

/// Membership and election against a real etcd.
final class ClusterElectionTests: XCTestCase {
    func testCampaignRefusesANodeBehindALiveNodeAndElectsTheNewest() async throws {
        try await ClusterHarness.with { harness in
            let behind = harness.member("eu")
            let newest = harness.member("us")
            let foreign = harness.member("ap")
            for member in [behind, newest, foreign] { try await member.start() }
            try await behind.publish(position: ClusterHarness.position(10))
            try await newest.publish(position: ClusterHarness.position(12))
            // Another generation with a lower txid does not block; it cannot win over 12 either.
            try await foreign.publish(position: ClusterHarness.position(11, generation: "g0"))

            let live = try await behind.liveNodes()
            XCTAssertEqual(live.map(\.name), ["ap", "eu", "us"])
            XCTAssertEqual(live.first { $0.name == "us" }?.position.txid, 12)
            XCTAssertEqual(live.first { $0.name == "us" }?.url, "http://us.test:8080")

            let refused = try await behind.campaign(position: ClusterHarness.position(10))
            XCTAssertNil(refused, "a node behind a live node must not be elected")
            let refusedForeign = try await foreign.campaign(position: ClusterHarness.position(11, generation: "g0"))
            XCTAssertNil(refusedForeign, "a higher txid in another generation still blocks")
            let noLeaderYet = try await behind.currentLeader()
            XCTAssertNil(noLeaderYet)

            let elected = try await newest.campaign(position: ClusterHarness.position(12))
            let leader = try XCTUnwrap(elected)
            XCTAssertEqual(leader.name, "us")
            let lease = await newest.currentLease
            XCTAssertEqual(leader.lease, lease)
            let seen = try await behind.currentLeader()
            XCTAssertEqual(seen, leader, "everyone reads the same leader and epoch")
            let stored = try await harness.client.get("/ojs-edge/t/leader")
            XCTAssertEqual(stored?.createRevision, leader.epoch, "the epoch is the leader key's create revision")
            XCTAssertEqual(newest.fence.leaderEpoch(now: ClusterHarness.now), leader.epoch)
            XCTAssertNil(behind.fence.leaderEpoch(now: ClusterHarness.now))

            // With a leader in place nobody else is elected, however new.
            let late = try await foreign.campaign(position: ClusterHarness.position(99))
            XCTAssertNil(late)

            // Resigning ends the leadership in the fence and frees the key; a later leader's
            // epoch is higher.
            let resigned = try await newest.resign()
            XCTAssertTrue(resigned)
            XCTAssertNil(newest.fence.leaderEpoch(now: ClusterHarness.now))
            try await newest.publish(position: ClusterHarness.position(12))
            try await behind.publish(position: ClusterHarness.position(12))
            let next = try await behind.campaign(position: ClusterHarness.position(12))
            XCTAssertGreaterThan(try XCTUnwrap(next).epoch, leader.epoch)
            let notHeld = try await newest.resign()
            XCTAssertFalse(notHeld, "resign deletes only a key this member holds")
            for member in [behind, newest, foreign] { await member.stop() }
            let gone = try await harness.client.list(prefix: "/ojs-edge/t/")
            XCTAssertEqual(gone, [], "stop revokes the lease: every key of the member goes")
        }
    }

    func testEquallyNewCandidatesRacingElectExactlyOne() async throws {
        try await ClusterHarness.with { harness in
            let members = ["a", "b", "c"].map { harness.member($0) }
            for member in members {
                try await member.start()
                try await member.publish(position: ClusterHarness.position(5))
            }
            var epochs: [Int64] = []
            for _ in 0..<3 {
                let results = try await withThrowingTaskGroup(of: LeaderRecord?.self) { group in
                    for member in members { group.addTask { try await member.campaign(position: ClusterHarness.position(5)) } }
                    return try await group.reduce(into: [LeaderRecord?]()) { $0.append($1) }
                }
                let winners = results.compactMap { $0 }
                XCTAssertEqual(winners.count, 1, "one winner per round: \(results)")
                let leading = members.filter { $0.fence.leaderEpoch(now: ClusterHarness.now) != nil }
                XCTAssertEqual(leading.count, 1, "exactly one member's fence carries an epoch")
                epochs.append(try XCTUnwrap(winners.first).epoch)
                try await leading.first?.resign()
            }
            XCTAssertEqual(epochs, epochs.sorted())
            XCTAssertEqual(Set(epochs).count, epochs.count, "epochs never repeat")
            for member in members { await member.stop() }
        }
    }

    func testLeaderKeyVanishesWithASilentHolderAndAnotherWinsWithinTheTTL() async throws {
        try await ClusterHarness.with { harness in
            let proxy = try await harness.proxy()
            let holder = harness.member("eu", through: proxy)
            let standby = harness.member("us")
            try await holder.start()
            try await standby.start()
            try await standby.publish(position: ClusterHarness.position(7))
            let first = try await holder.campaign(position: ClusterHarness.position(7))
            let leader = try XCTUnwrap(first)

            let changes = LeaderChanges(standby.leaderChanges())
            let initial = try await changes.next()
            XCTAssertEqual(initial, .some(leader))

            proxy.setPartitioned(true)
            let cutAt = ClusterHarness.now
            let vanished = try await changes.next()
            XCTAssertEqual(vanished, .some(nil), "the leader key vanishes with its lease")
            let elected = try await standby.campaign(position: ClusterHarness.position(7))
            let wonAt = ClusterHarness.now
            let successor = try XCTUnwrap(elected)
            XCTAssertGreaterThan(successor.epoch, leader.epoch)
            let next = try await changes.next()
            XCTAssertEqual(next, .some(successor))
            // TTL 2 s, plus etcd's expiry check (every 500 ms) and a generous allowance for a
            // machine busy with builds: a bound that catches a failover that waits for nothing.
            XCTAssertLessThan(wonAt - cutAt, Int64(ClusterHarness.leaseTTLms) + 3000, "failover took \(wonAt - cutAt) ms")
            await holder.stop()
            await standby.stop()
        }
    }
}
