import Foundation
import NIOPosix
import OJSSimulation
import XCTest

/// Failover with real processes and a real etcd on loopback (`docs/failover.md`): three
/// `ojs-edge node` processes, producers and workers going through every node, and the leader
/// killed, cut off from etcd, or paused past its lease.
final class FailoverTests: XCTestCase {
    /// The lease the tests run with: etcd's minimum. A new leader must accept writes within
    /// the lease plus this margin: the margin covers the 100 ms poll, the promotion (reopening
    /// the copy as the writer) and the clients' 20 ms retry, with room for a loaded CI machine.
    static let leaseTTLms = 2000
    static let failoverMarginMs = 3000.0

    var cluster: NodeCluster!

    override func setUp() async throws {
        cluster = try await NodeCluster()
    }

    override func tearDown() async throws {
        cluster?.stop()
    }

    func nodeArguments(sync: Int) -> [String] {
        ["--lease-ttl-ms", String(Self.leaseTTLms), "--sync-replicas", String(sync), "--sync-timeout-ms", "5000"]
    }

    /// Starts a, then b and c; a leads.
    func startThree(sync: Int, etcdURLs: [String: String] = [:]) async throws -> String {
        for name in ["a", "b", "c"] {
            try await cluster.add(name, etcdURL: etcdURLs[name], arguments: nodeArguments(sync: sync))
            if name == "a" { _ = try await cluster.awaitLeader() }
        }
        try await cluster.awaitReplica("b")
        try await cluster.awaitReplica("c")
        let leader = try await cluster.awaitLeader()
        XCTAssertEqual(leader, "a", "the first node of a new cluster leads")
        return leader
    }

    /// Every node's URL, dead or alive, as a load balancer would list them: a request to a
    /// dead node fails and the client goes on to the next one.
    func liveBases() -> @Sendable () -> [String] {
        let bases = cluster.names.compactMap { cluster.nodes[$0]?.baseURL }
        return { bases }
    }

    /// Runs load, kills the leader, keeps the load going until the new leader took writes for
    /// a while, and returns what the clients saw.
    func killLeaderUnderLoad(sync: Int) async throws -> (load: FailoverLoad, old: String, new: String, failoverMs: Double) {
        let old = try await startThree(sync: sync)
        let load = FailoverLoad(queue: "failover")
        let bases = liveBases()
        let running = Task { await load.run(producers: 4, workers: 2, bases: bases) }
        try await eventually("the load has pushed through the first leader", within: 20) { load.acknowledged.count >= 200 }
        let killedAt = Ledger.now()
        try cluster.node(old).kill9()
        let new = try await cluster.awaitLeader(excluding: old, within: 30)
        let firstWrite = try await eventually("a push is answered by the new leader", within: 30) {
            load.acknowledged.filter { $0.servedBy == "primary/\(new)" }.map(\.received).min()
        }
        let failoverMs = firstWrite - killedAt
        let acknowledgedAtFailover = load.acknowledged.count
        try await eventually("the load goes on through the new leader", within: 30) { load.acknowledged.count >= acknowledgedAtFailover + 200 }
        load.stop()
        await running.value
        print("failover (sync \(sync)): \(old) killed, \(new) took its first write after \(Int(failoverMs)) ms")
        return (load, old, new, failoverMs)
    }

    /// The jobs among `pushes` the leader does not have.
    func missing(_ pushes: [FailoverLoad.Push], on leader: String) async throws -> [String] {
        var lost: [String] = []
        let base = try cluster.node(leader).baseURL
        for push in pushes {
            let r = try await HTTP.exchange("GET", base + "/ojs/v1/jobs/\(push.id)")
            if r.status == 404 { lost.append(push.id) } else if r.status != 200 { throw TestFailure("GET \(push.id) answered \(r.status)") }
        }
        return lost
    }

    func testLeaderKilledUnderLoadWithSyncReplicasLosesNoAcknowledgedWrite() async throws {
        let (load, old, new, failoverMs) = try await killLeaderUnderLoad(sync: 1)
        XCTAssertLessThanOrEqual(
            failoverMs,
            Double(Self.leaseTTLms) + Self.failoverMarginMs,
            "the new leader accepts writes within the lease plus the margin"
        )

        let pushes = load.acknowledged
        let lost = try await missing(pushes, on: new)
        XCTAssertEqual(lost, [], "every push answered 2xx exists on the new leader (\(pushes.count) pushes)")
        let record = load.ledger.snapshot()
        let base = try cluster.node(new).baseURL
        for (id, _) in record.acked {
            let job = try await HTTP.exchange("GET", base + "/ojs/v1/jobs/\(id)").json["job"] as? [String: Any]
            XCTAssertEqual(job?["state"] as? String, "completed", "acked job \(id) is completed on the new leader")
        }
        XCTAssertEqual(record.doubleClaims(visibilityMs: FailoverLoad.visibilityMs), [], "no job is held by two workers at once")
        XCTAssertEqual(record.claimsAfterAck(), [], "no job is handed out after its ack")

        // The old leader, restarted, rejoins as a replica and converges.
        let oldNode = try cluster.node(old)
        try await oldNode.start()
        try await cluster.awaitReplica(old)
        let leaderDigest = try await cluster.digest(new, atBookmarkOf: new)
        let rejoined = try await cluster.digest(old, atBookmarkOf: new)
        XCTAssertEqual(rejoined["sha256"] as? String, leaderDigest["sha256"] as? String, "the old leader's copy equals the new leader's")
    }

    func testWithoutSyncReplicasTheAcknowledgedWritesLostAreCounted() async throws {
        let (load, _, new, failoverMs) = try await killLeaderUnderLoad(sync: 0)
        let pushes = load.acknowledged
        let lost = try await missing(pushes, on: new)
        // Not asserted to be zero: asynchronous replication can lose the unshipped tail.
        print("asynchronous failover: \(lost.count) of \(pushes.count) acknowledged pushes lost; first write after \(Int(failoverMs)) ms")
        XCTAssertLessThanOrEqual(failoverMs, Double(Self.leaseTTLms) + Self.failoverMarginMs)
        XCTAssertLessThan(lost.count, pushes.count, "the new leader has the history up to the failover")
    }

    /// A proxy between the leader and etcd cuts it off. The leader must stop committing before
    /// any other node commits: every push the old leader answered was answered before any push
    /// the new leader answered was even sent.
    func testLeaderCutOffFromEtcdStopsCommittingBeforeAnotherNodeStarts() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let proxy = try await LinkProxy.start(
            name: "a-etcd",
            link: Topology.Link(latencyMs: 0),
            upstreamPort: cluster.etcd.clientPort,
            seed: 1,
            group: group
        )
        defer { proxy.close() }
        let old = try await startThree(sync: 0, etcdURLs: ["a": "http://127.0.0.1:\(proxy.port)"])
        let load = FailoverLoad(queue: "cut")
        let bases = liveBases()
        let running = Task { await load.run(producers: 4, workers: 2, bases: bases) }
        try await eventually("the load has pushed through the first leader", within: 20) { load.acknowledged.count >= 100 }
        proxy.setPartitioned(true)
        let new = try await cluster.awaitLeader(excluding: old, within: 30)
        try await eventually("the new leader answers pushes", within: 30) {
            load.acknowledged.filter { $0.servedBy == "primary/\(new)" }.count >= 50
        }
        load.stop()
        await running.value
        let pushes = load.acknowledged
        let lastByOld = pushes.filter { $0.servedBy == "primary/\(old)" }.map(\.received).max() ?? 0
        let firstToNew = pushes.filter { $0.servedBy == "primary/\(new)" }.map(\.sent).min() ?? 0
        XCTAssertLessThan(lastByOld, firstToNew, "the cut-off leader answered its last write before the new leader's first was sent")
        // The cut-off node steps down and, once it reaches etcd again, follows the new leader.
        let status = try await cluster.status(old)
        XCTAssertNotEqual(status["role"] as? String, "primary", "the cut-off node no longer acts as the primary")
        proxy.setPartitioned(false)
        try await cluster.awaitReplica(old)
    }

    /// SIGSTOP the leader past its lease; pushes sent to it meanwhile wait in its socket. After
    /// SIGCONT none of them (nor any later one) is committed by it.
    func testLeaderPausedPastItsLeaseCommitsNothingAfterWaking() async throws {
        let old = try await startThree(sync: 0)
        let oldNode = try cluster.node(old)
        guard let pid = oldNode.pid else { throw TestFailure("leader has no process") }
        let before = try await cluster.status(old)["txid"] as? Int ?? 0
        kill(pid, SIGSTOP)
        let new = try await cluster.awaitLeader(excluding: old, within: 30)
        // Sent to the paused leader: they sit in its socket buffer until it wakes.
        let base = oldNode.baseURL
        let waiting = (0..<8).map { i in
            Task { () -> (status: Int, servedBy: String)? in
                let body = #"{"type":"paused.job","queue":"paused","args":[\#(i)]}"#
                guard let r = try? await HTTP.exchange("POST", base + "/ojs/v1/jobs", json: body) else { return nil }
                return (r.status, r.headers["ojs-served-by"] ?? "")
            }
        }
        kill(pid, SIGCONT)
        var refused = 0
        for task in waiting {
            guard let r = await task.value else { continue }
            if (200..<300).contains(r.status) {
                XCTAssertEqual(r.servedBy, "primary/\(new)", "a push answered 2xx after the wake was committed by the new leader")
            } else {
                XCTAssertEqual(r.status, 503, "a push the woken node cannot commit is refused as retryable")
                refused += 1
            }
        }
        print("paused leader: \(refused) of \(waiting.count) pushes sent during the pause refused after the wake, the rest forwarded")
        // It steps down and follows with the copy it had: had it committed anything after
        // waking, the new leader would refuse that copy and it would bootstrap.
        try await cluster.awaitReplica(old)
        let rejoined = try await cluster.status(old)
        XCTAssertEqual(rejoined["bootstraps"] as? Int, 0, "the woken node's copy holds nothing the new leader lacks")
        let leaderDigest = try await cluster.digest(new, atBookmarkOf: new)
        let oldDigest = try await cluster.digest(old, atBookmarkOf: new)
        XCTAssertEqual(oldDigest["sha256"] as? String, leaderDigest["sha256"] as? String)
        let after = try await cluster.status(new)["txid"] as? Int ?? 0
        XCTAssertGreaterThanOrEqual(after, before, "the new leader continues the history")
    }
}
