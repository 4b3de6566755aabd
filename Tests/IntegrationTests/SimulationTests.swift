import Foundation
import OJSSimulation
import XCTest

/// `ojs-edge simulate` end to end, as a user runs it: the faults topology on a shortened
/// timeline (partition, replica kill -9, primary kill -9), then the report's invariants.
final class SimulationTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testAShortFaultsRunKeepsEveryInvariant() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-sim-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let reportURL = dir.appendingPathComponent("report.json")
        let chartURL = dir.appendingPathComponent("lag.svg")
        let work = dir.appendingPathComponent("nodes")
        // The 60 s timeline at a fifth: partition at 2 s for 2 s, replica kill at 5 s, primary kill at 8 s.
        let (status, table) = try Command.run(
            ServerProcess.binary,
            [
                "simulate", "--topology", Self.repository.appendingPathComponent("replica/topologies/faults.json").path, "--duration", "10",
                "--time-scale", "0.2", "--report", reportURL.path, "--chart", chartURL.path, "--work-dir", work.path, "--seed", "6",
            ],
            timeout: 180
        )
        let report = try SimulationReport.decode(Data(contentsOf: reportURL))
        let i = report.invariants
        XCTAssertEqual(i.rywViolationsWithBookmark, 0, i.details.joined(separator: "\n"))
        XCTAssertEqual(i.lostAcknowledgedJobs, 0, i.details.joined(separator: "\n"))
        XCTAssertEqual(i.doubleClaims, 0, i.details.joined(separator: "\n"))
        XCTAssertTrue(i.replicasIdentical, i.details.joined(separator: "\n"))
        XCTAssertEqual(status, 0, table)
        // The zeros mean something only if the run did work in every region and played every fault.
        XCTAssertGreaterThan(i.acknowledgedJobsChecked, 0)
        XCTAssertGreaterThan(i.claimsChecked, 0)
        XCTAssertGreaterThan(i.bookmarkedReadsChecked, 0)
        XCTAssertEqual(Set(i.comparedAtTxid.keys), ["near", "continental", "far"])
        XCTAssertEqual(report.faults.map(\.kind).sorted(), ["kill_primary", "kill_replica", "partition"])
        XCTAssertTrue(report.regions.allSatisfy { $0.replicationLagMs.count > 0 })
        XCTAssertTrue(try String(contentsOf: chartURL, encoding: .utf8).contains("<polyline"))
        XCTAssertEqual(Self.processes(mentioning: work.path), [], "nodes outlived the simulation")
    }

    func testInterruptingASimulationLeavesNoProcessBehind() async throws {
        let (simulator, work) = try await Self.startSimulationAndAwaitItsNodes()
        defer { Self.cleanUp(work) }
        kill(simulator.processIdentifier, SIGINT)
        try await eventually("the simulator exits on SIGINT", within: 30, every: .milliseconds(100)) { !simulator.isRunning }
        XCTAssertEqual(Self.processes(mentioning: work.path), [], "nodes outlived an interrupted simulation")
    }

    /// SIGKILL gives the simulator no chance to stop its nodes; they notice on their own.
    func testNodesOfAKilledSimulatorExitByThemselves() async throws {
        let (simulator, work) = try await Self.startSimulationAndAwaitItsNodes()
        defer { Self.cleanUp(work) }
        kill(simulator.processIdentifier, SIGKILL)
        simulator.waitUntilExit()
        try await eventually("every node exits after the simulator was killed", within: 15, every: .milliseconds(100)) {
            Self.processes(mentioning: work.path).isEmpty
        }
    }

    static func startSimulationAndAwaitItsNodes() async throws -> (Process, URL) {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-sim-stop-\(UUID().uuidString)")
        let p = Process()
        p.executableURL = ServerProcess.binary
        p.arguments = ["simulate", "--duration", "60", "--work-dir", work.path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // A primary and three replicas: four processes whose arguments name the work directory.
        try await eventually("the simulator starts its four nodes", within: 60, every: .milliseconds(100)) {
            Self.processes(mentioning: work.path).count == 4 || !p.isRunning
        }
        guard p.isRunning else { throw TestFailure("the simulator exited during start-up") }
        return (p, work)
    }

    /// Whatever a test's outcome, nothing it started keeps running.
    static func cleanUp(_ work: URL) {
        for pid in processes(mentioning: work.path) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: work)
    }

    /// PIDs of live processes whose command line contains `text` (Linux /proc).
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let args = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return args.contains(text) && !args.hasPrefix(ServerProcess.binary.path + " simulate") ? pid : nil
        }
    }
}
