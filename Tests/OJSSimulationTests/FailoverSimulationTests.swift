import Foundation
import XCTest

@testable import OJSSimulation

/// The pure parts of a failover simulation: the topology's failover fields, the failover time
/// measured from the writes' answers, and the report's failover section.
final class FailoverSimulationTests: XCTestCase {
    static func topology(_ extra: String, faults: String = "[]", regions: Int = 3) -> Data {
        let list = (0..<regions).map { #"{"name":"r\#($0)","primary_link":{"latency_ms":1}}"# }.joined(separator: ",")
        return Data(#"{"name":"x"\#(extra),"regions":[\#(list)],"faults":\#(faults)}"#.utf8)
    }

    func testTheShippedFailoverTopologyParses() throws {
        let url = SimulationCoreTests.repository.appendingPathComponent("replica/topologies/failover.json")
        let t = try Topology.decode(Data(contentsOf: url))
        XCTAssertEqual(t.mode, .failover)
        XCTAssertEqual(t.syncReplicas, 1)
        XCTAssertEqual(t.leaseTtlMs, 2000)
        XCTAssertEqual(t.regions.count, 3)
        let kill = try XCTUnwrap(t.faults?.first { $0.kind == .killLeader })
        XCTAssertNotEqual(kill.restart, false, "the shipped timeline restarts the killed leader")
    }

    func testTheFailoverFieldsAreValidated() throws {
        XCTAssertEqual(try Topology.decode(Self.topology("")).mode, nil)
        XCTAssertFalse(try Topology.decode(Self.topology("")).isFailover)
        let ok = try Topology.decode(Self.topology(#","mode":"failover","sync_replicas":2,"lease_ttl_ms":2000"#))
        XCTAssertEqual([ok.syncReplicas, ok.leaseTtlMs], [2, 2000])
        let refused: [(Data, String)] = [
            (Self.topology(#","mode":"failover","sync_replicas":3"#), "sync_replicas"),
            (Self.topology(#","mode":"failover","lease_ttl_ms":1000"#), "lease_ttl_ms"),
            (Self.topology(#","sync_replicas":1"#), "only to"),
            (Self.topology(#","mode":"failover""#, regions: 1), "at least two regions"),
            (Self.topology(#","mode":"failover""#, faults: #"[{"at_s":1,"kind":"kill_primary","duration_s":1}]"#), "use kill_leader"),
            (Self.topology("", faults: #"[{"at_s":1,"kind":"kill_leader","duration_s":1}]"#), "needs \"mode\""),
        ]
        for (data, reason) in refused {
            XCTAssertThrowsError(try Topology.decode(data)) { XCTAssertTrue("\($0)".contains(reason), "\($0)") }
        }
        XCTAssertThrowsError(try Topology.decode(Self.topology(#","mode":"leaderless""#)))
        let noRestart = try Topology.decode(
            Self.topology(#","mode":"failover""#, faults: #"[{"at_s":1,"kind":"kill_leader","duration_s":0,"restart":false}]"#)
        )
        XCTAssertEqual(noRestart.faults?.first?.restart, false)
    }

    func testTheFailoverTimeRunsToTheNewLeadersFirstWrite() {
        let answers: [(t: Double, servedBy: String)] = [
            (4.9, "primary/a"), (5.2, "replica/b"), (8.0, "primary/c"), (7.5, "primary/b"), (9.0, "primary/a"),
        ]
        let kill = FailoverReport.LeaderKill.measure(killed: "a", atS: 5, answers: answers)
        XCTAssertEqual(kill.newLeader, "b")
        XCTAssertEqual(kill.failoverTimeMs, 2500)
        let never = FailoverReport.LeaderKill.measure(killed: "a", atS: 5, answers: [(4.9, "primary/a"), (6, "primary/a")])
        XCTAssertNil(never.newLeader)
        XCTAssertNil(never.failoverTimeMs)
    }

    func testTheReportShowsWhoLedAndHowLongWritesWaited() throws {
        var report = SimulationCoreTests.sampleReport()
        report.failover = Self.failover(kills: [.init(killed: "near", atS: 5, newLeader: "far", failoverTimeMs: 2500)])
        let table = report.table()
        for line in [
            "failover (sync replicas 1, lease 2000 ms):", "leader at the start: near",
            "killed leader near at 5 s: far answered the first write 2500 ms later (failover time)", "leader at the end: far",
            "acknowledged writes lost: 0 (of 3)", "stale reads without bookmark: 2 (of 9)", "replicas identical to the final leader far: yes",
        ] {
            XCTAssertTrue(table.contains(line), "missing \(line) in\n\(table)")
        }
        XCTAssertTrue(table.hasSuffix("PASS"), table)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        let failover = try XCTUnwrap(object["failover"] as? [String: Any])
        XCTAssertEqual(failover["acknowledged_writes_lost"] as? Int, 0)
        XCTAssertEqual((failover["leader_kills"] as? [[String: Any]])?.first?["failover_time_ms"] as? Double, 2500)
        XCTAssertEqual(try SimulationReport.decode(report.json()).failover, report.failover)
    }

    func testAKilledLeaderNobodyReplacedFailsTheRun() {
        var report = SimulationCoreTests.sampleReport()
        XCTAssertTrue(report.holds)
        report.failover = Self.failover(kills: [.init(killed: "near", atS: 5, newLeader: nil, failoverTimeMs: nil)])
        XCTAssertFalse(report.holds)
        XCTAssertTrue(report.table().contains("NO write was answered by another leader"), report.table())
        XCTAssertTrue(report.table().hasSuffix("FAIL"), report.table())
    }

    static func failover(kills: [FailoverReport.LeaderKill]) -> FailoverReport {
        FailoverReport(
            syncReplicas: 1,
            leaseTtlMs: 2000,
            initialLeader: "near",
            finalLeader: kills.last?.newLeader ?? "near",
            acknowledgedWritesLost: 0,
            acknowledgedWritesChecked: 3,
            staleReads: 2,
            readsWithoutBookmark: 9,
            leaderKills: kills
        )
    }
}
