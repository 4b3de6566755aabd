import Foundation
import OJSReplication
import OJSStore
import XCTest

/// Failover with real processes: a replica's relay log is the primary's records byte for
/// byte; `ojs-edge promote` turns a stopped replica into a primary that the other replicas
/// follow without a snapshot; a copy holding transactions the new primary lacks is refused,
/// bootstraps and never serves them.
final class PromotionTests: XCTestCase {
    /// Records of at most 16 KiB of pages, so a batch push ships in several records.
    static let environment = ["OJS_REPLICATION_RECORD_KB": "16"]

    @discardableResult
    func push(_ node: ServerProcess, _ count: Int, type: String) async throws -> [String] {
        var ids: [String] = []
        for i in 0..<count {
            let r = try await HTTP.exchange("POST", node.baseURL + "/ojs/v1/jobs", json: #"{"type":"\#(type)","args":[\#(i)]}"#)
            XCTAssertEqual(r.status, 201, "\(r.json)")
            if let id = (r.json["job"] as? [String: Any])?["id"] as? String { ids.append(id) }
        }
        return ids
    }

    /// One batch push of 60 jobs of 3.5 KB: one transaction, several records.
    @discardableResult
    func pushBig(_ node: ServerProcess) async throws -> [String] {
        let args = String(repeating: "b", count: 3500)
        let jobs = (0..<60).map { #"{"type":"failover.big","args":["\#(args)",\#($0)]}"# }
        let r = try await HTTP.exchange("POST", node.baseURL + "/ojs/v1/jobs/batch", json: #"{"jobs":[\#(jobs.joined(separator: ","))]}"#)
        XCTAssertEqual(r.status, 201, "\(r.json)")
        return (r.json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    func status(_ node: ServerProcess) async throws -> [String: Any] {
        try await HTTP.exchange("GET", node.baseURL + "/ojs/v1/replication/status", headers: Cluster.replicationAuth(node)).json
    }

    /// The primary's and the replica's digests at one txid, once the replica has caught up.
    func digestsAtOnePosition(primary: ServerProcess, replica: ServerProcess, region: String) async throws -> (String?, String?) {
        try await eventually("replica \(region) has \(primary.baseURL)'s digest at one txid", within: 30) {
            let health = try await HTTP.exchange("GET", primary.baseURL + "/ojs/v1/health")
            guard let bookmark = health.headers["ojs-bookmark"] else { return nil }
            let copy = try await HTTP.exchange(
                "GET",
                replica.baseURL + "/ojs/v1/replication/digest",
                headers: Cluster.replicationAuth(replica).merging(["OJS-Bookmark": bookmark]) { $1 }
            )
            guard copy.status == 200, copy.headers["ojs-served-by"] == "replica/\(region)" else { return nil }
            let original = try await HTTP.exchange("GET", primary.baseURL + "/ojs/v1/replication/digest", headers: Cluster.replicationAuth(primary))
            guard let t = copy.json["txid"] as? Int, t == original.json["txid"] as? Int else { return nil }
            return (original.json["sha256"] as? String, copy.json["sha256"] as? String)
        }
    }

    /// Opens a stopped replica's data directory as the replica would on start (recovery
    /// included) and checks that its relay log ends at the applied position, which the
    /// database's own position matches.
    func assertRelayLogEndsAtPosition(_ directory: URL, file: StaticString = #filePath, line: UInt = #line) throws -> ReplicaPosition {
        let applier = try ReplicaApplier(dataDirectory: directory)
        let position = try XCTUnwrap(applier.position, "the copy survived", file: file, line: line)
        let end = applier.relayLog.stats
        XCTAssertEqual(
            ReplicaPosition(generation: end.generation, txid: end.lastTxid, checksum: end.lastChecksum),
            position,
            file: file,
            line: line
        )
        let reader = try Connection(path: applier.databasePath, options: .init(readOnly: true))
        XCTAssertEqual(try reader.scalar("SELECT txid FROM replication_position WHERE id = 1"), Int64(position.txid), file: file, line: line)
        return position
    }

    func promote(_ directory: URL) throws -> (status: Int32, text: String) {
        try Command.run(ServerProcess.binary, ["promote", "--data-dir", directory.path], capture: .standardOutput)
    }

    func testARelayLogHoldsThePrimarysRecordsByteForByteFromItsSnapshot() async throws {
        let cluster = try Cluster(primaryEnvironment: Self.environment)
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        try await push(cluster.primary, 20, type: "relay.before")
        let replica = try await cluster.addReplica("b", environment: Self.environment)
        try await push(cluster.primary, 200, type: "relay.single")
        try await pushBig(cluster.primary)
        try await push(cluster.primary, 10, type: "relay.after")
        let (original, copy) = try await digestsAtOnePosition(primary: cluster.primary, replica: replica, region: "b")
        XCTAssertEqual(copy, original)
        replica.terminate()
        cluster.primary.terminate()

        let primaryLog = try ReplicationLog(directory: cluster.primary.dataDir.appendingPathComponent("replication"))
        let applier = try ReplicaApplier(dataDirectory: replica.dataDir)
        let relay = applier.relayLog
        let start = relay.firstTxid - 1
        XCTAssertEqual(relay.generation, primaryLog.generation)
        XCTAssertGreaterThan(start, 0, "the snapshot was taken after the first pushes")
        XCTAssertEqual(try relay.checksum(at: start), try primaryLog.checksum(at: start), "the relay log starts at the snapshot's chain value")
        XCTAssertNotEqual(try relay.checksum(at: start), 0)
        let relayed = try relay.records(after: start, maxBytes: .max)
        let shipped = try primaryLog.records(after: start, maxBytes: .max).filter { $0.txid <= relay.lastTxid }
        XCTAssertGreaterThanOrEqual(Set(relayed.map(\.txid)).count, 211)
        XCTAssertGreaterThan(relayed.filter { $0.part > 0 }.count, 0, "the batch is in the relay log as its parts")
        XCTAssertEqual(relayed.map(\.bytes), shipped.map(\.bytes))
        XCTAssertEqual(relay.lastTxid, applier.position?.txid)
    }

    func testAReplicaKilledMidStreamReopensWithItsRelayLogAtItsPosition() async throws {
        let cluster = try Cluster(primaryEnvironment: Self.environment)
        defer { cluster.stop() }
        try await cluster.start(replicas: ["b"])
        let replica = try XCTUnwrap(cluster.replicas["b"])
        let before = try await status(replica)["applied_txid"] as? Int ?? 0
        let primary = cluster.primary
        let base = primary.baseURL
        let args = String(repeating: "k", count: 3500)
        // Pushes keep arriving while the replica is killed; every tenth request a batch that
        // ships in several records.
        let pushing = Task {
            for round in 0..<200 {
                let body =
                    round % 10 == 5
                    ? #"{"jobs":[\#((0..<60).map { #"{"type":"crash.big","args":["\#(args)",\#($0)]}"# }.joined(separator: ","))]}"#
                    : #"{"type":"crash.single","args":[\#(round)]}"#
                _ = try await HTTP.exchange("POST", base + (round % 10 == 5 ? "/ojs/v1/jobs/batch" : "/ojs/v1/jobs"), json: body)
            }
        }
        try await eventually("the replica applied part of the stream", within: 30) {
            (try await self.status(replica)["applied_txid"] as? Int ?? 0) > before + 30
        }
        replica.kill9()
        try await pushing.value
        let position = try assertRelayLogEndsAtPosition(replica.dataDir)
        XCTAssertGreaterThan(position.txid, UInt64(before))

        try await replica.start()
        let (original, copy) = try await digestsAtOnePosition(primary: primary, replica: replica, region: "b")
        XCTAssertEqual(copy, original)
        let resumed = try await status(replica)
        XCTAssertEqual(resumed["bootstraps"] as? Int, 0, "resumed from its copy: \(resumed)")
    }

    func testAPromotedReplicaIsFollowedByTheOtherWithoutABootstrap() async throws {
        let cluster = try Cluster(primaryEnvironment: Self.environment)
        defer { cluster.stop() }
        try await cluster.start(replicas: ["b", "c"])
        var acknowledged = try await push(cluster.primary, 60, type: "failover.before")
        acknowledged += try await pushBig(cluster.primary)
        acknowledged += try await push(cluster.primary, 10, type: "failover.last")
        let b = try XCTUnwrap(cluster.replicas["b"])
        let c = try XCTUnwrap(cluster.replicas["c"])
        // Replication is asynchronous: what the primary acknowledged reaches B before it dies.
        _ = try await digestsAtOnePosition(primary: cluster.primary, replica: b, region: "b")
        _ = try await digestsAtOnePosition(primary: cluster.primary, replica: c, region: "c")
        let generation = try await status(cluster.primary)["generation"] as? String
        let cBefore = try await status(c)
        XCTAssertEqual(cBefore["bootstraps"] as? Int, 1)

        let inUse = try Command.run(ServerProcess.binary, ["promote", "--data-dir", c.dataDir.path], capture: .standardError)
        XCTAssertEqual(inUse.status, 78, "a running replica's directory is refused: \(inUse.text)")
        XCTAssertTrue(inUse.text.contains("in use"), inUse.text)

        cluster.primary.kill9()
        b.terminate()
        c.terminate()
        let promoted = try promote(b.dataDir)
        XCTAssertEqual(promoted.status, 0, promoted.text)
        XCTAssertTrue(promoted.text.contains(generation ?? "?"), promoted.text)
        let again = try Command.run(ServerProcess.binary, ["promote", "--data-dir", b.dataDir.path], capture: .standardError)
        XCTAssertEqual(again.status, 78, "no copy left to promote: \(again.text)")

        let newPrimary = try ServerProcess(dataDir: b.dataDir, environment: Self.environment)
        try await newPrimary.start()
        let continued = try await status(newPrimary)["generation"] as? String
        XCTAssertEqual(continued, generation, "the history continues")
        let follower = try ServerProcess(
            dataDir: c.dataDir,
            command: ["replica", "--primary", newPrimary.baseURL, "--region", "c"],
            extraArguments: ["--consistency-wait-ms", "3000"],
            environment: Self.environment
        )
        try await follower.start()
        try await push(newPrimary, 40, type: "failover.after")
        try await pushBig(newPrimary)
        let (original, copy) = try await digestsAtOnePosition(primary: newPrimary, replica: follower, region: "c")
        XCTAssertEqual(copy, original)
        let followerStatus = try await status(follower)
        XCTAssertEqual(followerStatus["bootstraps"] as? Int, 0, "C followed B without a snapshot: \(followerStatus)")
        XCTAssertEqual(followerStatus["generation"] as? String, generation)
        for id in acknowledged {
            let r = try await HTTP.exchange("GET", newPrimary.baseURL + "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(r.status, 200, "job \(id) acknowledged by the old primary")
        }
        follower.terminate()
        newPrimary.terminate()
    }

    func testACopyHoldingTransactionsTheNewPrimaryLacksIsRefusedAndBootstraps() async throws {
        let cluster = try Cluster(primaryEnvironment: Self.environment)
        defer { cluster.stop() }
        try await cluster.start(replicas: ["b"])
        let b = try XCTUnwrap(cluster.replicas["b"])
        try await push(cluster.primary, 30, type: "diverge.shared")
        _ = try await digestsAtOnePosition(primary: cluster.primary, replica: b, region: "b")
        b.terminate()
        // The old primary's tail that no replica received.
        let foreign = try await push(cluster.primary, 20, type: "diverge.foreign")
        cluster.primary.kill9()

        let promoted = try promote(b.dataDir)
        XCTAssertEqual(promoted.status, 0, promoted.text)
        let newPrimary = try ServerProcess(dataDir: b.dataDir, environment: Self.environment)
        try await newPrimary.start()
        defer { newPrimary.terminate() }
        // B commits its own transactions at the txids of A's tail, and past them.
        try await push(newPrimary, 40, type: "diverge.new")

        let demoted = try XCTUnwrap(try CopyPromotion.demote(dataDirectory: cluster.primary.dataDir), "A's log ends at its database")
        let bTxid = try await status(newPrimary)["txid"] as? Int ?? 0
        XCTAssertGreaterThan(bTxid, Int(demoted.txid), "B is past A's tail, so only the checksum tells them apart")
        let oldPrimary = try ServerProcess(
            dataDir: cluster.primary.dataDir,
            command: ["replica", "--primary", newPrimary.baseURL, "--region", "a"],
            extraArguments: ["--consistency-wait-ms", "3000"],
            environment: Self.environment
        )
        try await oldPrimary.start()
        defer { oldPrimary.terminate() }
        let oldStatus = try await status(oldPrimary)
        XCTAssertEqual(oldStatus["bootstraps"] as? Int, 1, "refused (409), it bootstrapped before serving: \(oldStatus)")
        for id in foreign.prefix(5) {
            let r = try await HTTP.exchange("GET", oldPrimary.baseURL + "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(r.status, 404, "job \(id) of the old primary's tail is not served")
        }
        try await push(newPrimary, 5, type: "diverge.later")
        let (original, copy) = try await digestsAtOnePosition(primary: newPrimary, replica: oldPrimary, region: "a")
        XCTAssertEqual(copy, original)
    }
}
