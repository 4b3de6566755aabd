import Foundation
import OJSCluster
import XCTest

/// The fencing deadline against a real etcd, with the member cut off by a proxy.
final class FenceTests: XCTestCase {
    /// Samples two members' fences from the side, about every millisecond: any moment at which
    /// both claimed leadership, and when the first one's leadership was first seen closed.
    final class FenceWatch: @unchecked Sendable {
        // @unchecked: the vars are only touched under `lock`.
        private let lock = NSLock()
        private var overlaps: [Int64] = []
        private var firstClosed: Int64?
        private var task: Task<Void, Never>?

        init(_ a: LeaseFence, _ b: LeaseFence) {
            task = Task.detached { [self] in
                while !Task.isCancelled {
                    let now = ClusterHarness.now
                    let aLeads = a.leaderEpoch(now: now) != nil
                    let bLeads = b.leaderEpoch(now: now) != nil
                    lock.withLock {
                        if aLeads, bLeads { overlaps.append(now) }
                        if !aLeads, firstClosed == nil { firstClosed = now }
                    }
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
        }

        /// Stops sampling: the overlaps, and the first sample at which `a` no longer led.
        func stop() -> (overlaps: [Int64], aClosedBy: Int64?) {
            task?.cancel()
            return lock.withLock { (overlaps, firstClosed) }
        }
    }

    func testACutOffLeadersFenceClosesBeforeEtcdExpiresItsLeaseAndBeforeAnotherWins() async throws {
        try await ClusterHarness.with { harness in
            let proxy = try await harness.proxy()
            let cut = harness.member("eu", through: proxy)
            let rival = harness.member("us")
            try await cut.start()
            try await rival.start()
            try await rival.publish(position: ClusterHarness.position(3))
            let elected = try await cut.campaign(position: ClusterHarness.position(3))
            let first = try XCTUnwrap(elected)
            let watch = FenceWatch(cut.fence, rival.fence)
            var events = cut.events.makeAsyncIterator()
            let granted = await events.next()
            let oldLease = try XCTUnwrap(first.lease)
            XCTAssertEqual(granted, .leaseGranted(lease: oldLease))

            proxy.setPartitioned(true)
            // The rival keeps trying; each try notes when it started and whether the cut
            // member's key was still in etcd (its lease not yet expired there).
            var lastSeenAlive: Int64 = 0
            let won: (record: LeaderRecord, sentAt: Int64) = try await eventually("the rival is elected", within: 10, every: .milliseconds(10)) {
                let sentAt = ClusterHarness.now
                if try await harness.client.get("/ojs-edge/t/nodes/eu") != nil { lastSeenAlive = sentAt }
                return try await rival.campaign(position: ClusterHarness.position(3)).map { (record: $0, sentAt: sentAt) }
            }
            let deadline = cut.fence.deadline
            let seen = watch.stop()

            // The cut member's fence had closed (as sampled: an upper bound on when) while etcd
            // still held its lease, and so before the rival's winning campaign was even sent.
            let closedBy = try XCTUnwrap(seen.aClosedBy, "the cut member's fence never closed")
            XCTAssertGreaterThan(lastSeenAlive, 0)
            XCTAssertLessThan(closedBy, lastSeenAlive, "fence closed at \(closedBy), etcd still showed the lease at \(lastSeenAlive)")
            XCTAssertLessThan(closedBy, won.sentAt)
            XCTAssertEqual(deadline, .min, "the lost lease's fence stays closed")
            XCTAssertGreaterThan(won.record.epoch, first.epoch)
            XCTAssertEqual(seen.overlaps, [], "both members claimed leadership at once")

            let lost = await events.next()
            XCTAssertEqual(lost, .lost(lease: oldLease, reason: .keepAliveTimedOut))

            // Back in touch: a fresh lease (never the lost one), the record republished under
            // it, and no leadership.
            proxy.setPartitioned(false)
            let regranted = await events.next()
            guard case .leaseGranted(let newLease) = regranted else { return XCTFail("expected a new lease, got \(String(describing: regranted))") }
            XCTAssertNotEqual(newLease, oldLease)
            let republished = try await eventually("the cut member's record is back under its new lease") {
                try await harness.client.get("/ojs-edge/t/nodes/eu").flatMap { $0.lease == newLease ? $0 : nil }
            }
            XCTAssertEqual(NodeRecord(republished)?.position.txid, 3)
            XCTAssertNil(cut.fence.leaderEpoch(now: ClusterHarness.now))
            XCTAssertTrue(cut.fence.isValid(now: ClusterHarness.now))
            let leader = try await cut.currentLeader()
            XCTAssertEqual(leader?.name, "us")
            await cut.stop()
            await rival.stop()
        }
    }

    func testAMemberWhoseLeaseEtcdRevokedReportsItExpiredAndCarriesOn() async throws {
        try await ClusterHarness.with { harness in
            let member = harness.member("eu")
            try await member.start()
            try await member.publish(position: ClusterHarness.position(1))
            let elected = try await member.campaign(position: ClusterHarness.position(1))
            let first = try XCTUnwrap(elected)
            var events = member.events.makeAsyncIterator()
            _ = await events.next()
            // Someone (an operator) revokes it: the next keep-alive learns the lease is gone.
            try await harness.client.revoke(lease: first.lease)
            let lost = await events.next()
            XCTAssertEqual(lost, .lost(lease: first.lease, reason: .expired))
            XCTAssertNil(member.fence.leaderEpoch(now: ClusterHarness.now))
            let regranted = await events.next()
            guard case .leaseGranted(let newLease) = regranted else { return XCTFail("expected a new lease") }
            XCTAssertNotEqual(newLease, first.lease)
            let again = try await member.campaign(position: ClusterHarness.position(1))
            XCTAssertEqual(again?.lease, newLease, "leadership again, only under the new lease")
            await member.stop()
        }
    }
}
