import Foundation
import OJSSimulation
import XCTest

/// `ojs-edge simulate` on the failover topology, shortened: three `ojs-edge node`s around a
/// real etcd, the leader killed with `kill -9` under load and restarted. Skipped without etcd
/// unless OJS_REQUIRE_ETCD=1.
final class SimulationFailoverTests: XCTestCase {
    func testKillingTheLeaderUnderLoadFailsOverWithoutLosingAnAcknowledgedWrite() throws {
        guard SimulatedEtcd.binary() != nil else {
            let message = "etcd is not installed (apt-get install etcd-server)"
            if ProcessInfo.processInfo.environment["OJS_REQUIRE_ETCD"] == "1" { throw TestFailure(message + " (OJS_REQUIRE_ETCD=1)") }
            throw XCTSkip(message)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-sim-failover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let work = dir.appendingPathComponent("nodes")
        defer { SimulationTests.cleanUp(dir) }
        let reportURL = dir.appendingPathComponent("report.json")
        // The 20 s timeline at half speed: the leader is killed at 2.5 s and restarted at 5.5 s.
        let (status, table) = try Command.run(
            ServerProcess.binary,
            [
                "simulate", "--topology", SimulationTests.repository.appendingPathComponent("replica/topologies/failover.json").path,
                "--duration", "10", "--time-scale", "0.5", "--report", reportURL.path, "--work-dir", work.path, "--seed", "3",
            ],
            timeout: 240
        )
        let report = try SimulationReport.decode(Data(contentsOf: reportURL))
        let failover = try XCTUnwrap(report.failover, table)
        let kill = try XCTUnwrap(failover.leaderKills.first, table)
        XCTAssertEqual(kill.killed, failover.initialLeader, table)
        let newLeader = try XCTUnwrap(kill.newLeader, "no other node answered a write after the leader was killed:\n\(table)")
        XCTAssertNotEqual(newLeader, kill.killed, table)
        XCTAssertNotNil(kill.failoverTimeMs, table)
        XCTAssertNotNil(failover.finalLeader, table)
        XCTAssertEqual(failover.acknowledgedWritesLost, 0, report.invariants.details.joined(separator: "\n"))
        XCTAssertGreaterThan(failover.acknowledgedWritesChecked, 0, "an idle run proves nothing")
        XCTAssertEqual(status, 0, table)
        XCTAssertEqual(SimulationTests.processes(mentioning: work.path), [], "nodes or etcd outlived the simulation")
    }
}
