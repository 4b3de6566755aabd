import Foundation
import XCTest

@testable import OJSSimulation

/// The pure parts of the simulator: topology parsing, link shaping, percentiles, the
/// double-claim check, the report and the chart.
final class SimulationCoreTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testTheBuiltInDefaultIsTheDefaultFile() throws {
        let file = try Data(contentsOf: Self.repository.appendingPathComponent("replica/topologies/default.json"))
        XCTAssertEqual(try Topology.decode(file), try Topology.decode(Data(Topology.defaultJSON.utf8)))
    }

    func testTheShippedTopologiesParse() throws {
        let faults = try Topology.decode(Data(contentsOf: Self.repository.appendingPathComponent("replica/topologies/faults.json")))
        XCTAssertEqual(faults.regions.map(\.name), ["near", "continental", "far"])
        XCTAssertEqual(Set(faults.faults?.map(\.kind) ?? []), [.partition, .killReplica, .killPrimary])
        let scaled = faults.scaled(by: 0.5)
        XCTAssertEqual(scaled.faults?.first?.atS, (faults.faults?.first?.atS ?? 0) / 2)
        XCTAssertEqual(scaled.faults?.first?.durationS, (faults.faults?.first?.durationS ?? 0) / 2)
    }

    func testInvalidTopologiesAreRefusedWithTheReason() {
        let unknownRegion =
            #"{"name":"x","regions":[{"name":"a","primary_link":{"latency_ms":1}}],"faults":[{"at_s":1,"kind":"kill_replica","region":"b","duration_s":1}]}"#
        XCTAssertThrowsError(try Topology.decode(Data(unknownRegion.utf8))) { XCTAssertTrue("\($0)".contains("names no known region"), "\($0)") }
        let badProbability = #"{"name":"x","regions":[{"name":"a","primary_link":{"latency_ms":1,"spike_probability":2}}]}"#
        XCTAssertThrowsError(try Topology.decode(Data(badProbability.utf8)))
        XCTAssertThrowsError(try Topology.decode(Data(#"{"name":"x","regions":[]}"#.utf8)))
        XCTAssertThrowsError(try Topology.decode(Data("not json".utf8)))
    }

    func testShapedChunksKeepTheirOrderAndPayLatency() {
        var shaper = Shaper(link: .init(latencyMs: 50, jitterMs: 40, spikeProbability: 0.3, spikeMs: 200), seed: 7)
        var last: Int64 = 0
        for i in 0..<1000 {
            let now = Int64(i) * 1_000_000
            let at = shaper.delivery(bytes: 100, now: now)
            XCTAssertGreaterThan(at, last, "chunk \(i) overtook the one before it")
            XCTAssertGreaterThanOrEqual(at - now, 50_000_000)
            last = at
        }
    }

    func testTheBandwidthCapSerialisesChunks() {
        // 8 Mbit/s: 1 MB takes one second on the wire.
        var shaper = Shaper(link: .init(latencyMs: 0, bandwidthKbps: 8000), seed: 1)
        let first = shaper.delivery(bytes: 500_000, now: 0)
        let second = shaper.delivery(bytes: 500_000, now: 0)
        XCTAssertEqual(Double(first) / 1e9, 0.5, accuracy: 0.001)
        XCTAssertEqual(Double(second) / 1e9, 1.0, accuracy: 0.001)
    }

    func testPercentilesAreObservedValues() {
        let p = Percentiles((1...100).map(Double.init))
        XCTAssertEqual([p.p50, p.p95, p.p99, p.max, Double(p.count)], [50, 95, 99, 100, 100])
        XCTAssertEqual(Percentiles([]).count, 0)
        XCTAssertEqual(Percentiles([0, 0, 0, 10_000]).p50, 0)
    }

    func testTheLedgerFindsOverlappingClaimsButNotReclaims() {
        var record = ClaimRecord()
        record.claims = [
            .init(id: "a", attempt: 1, worker: "w1", sent: 0, received: 5), .init(id: "a", attempt: 2, worker: "w2", sent: 100, received: 110),
            .init(id: "b", attempt: 1, worker: "w1", sent: 0, received: 5), .init(id: "b", attempt: 1, worker: "w2", sent: 3000, received: 3010),
            .init(id: "c", attempt: 1, worker: "w1", sent: 0, received: 5), .init(id: "c", attempt: 2, worker: "w2", sent: 30, received: 40),
            .init(id: "d", attempt: 1, worker: "w1", sent: 0, received: 5), .init(id: "d", attempt: 2, worker: "w2", sent: 2500, received: 2510),
        ]
        record.acked = ["c": (10, 20)]
        let doubles = record.doubleClaims(visibilityMs: 2000)
        XCTAssertTrue(doubles.contains { $0.hasPrefix("a#2") }, "\(doubles)")
        XCTAssertTrue(doubles.contains { $0.hasPrefix("b#1") }, "\(doubles)")
        XCTAssertFalse(doubles.contains { $0.hasPrefix("c") }, "a claim after the ack is not an overlap: \(doubles)")
        XCTAssertFalse(doubles.contains { $0.hasPrefix("d") }, "a claim after the visibility timeout is a reclaim: \(doubles)")
        XCTAssertEqual(record.claimsAfterAck(), ["c#2@w2 after its ack"])
    }

    func testTheJSONReportCarriesTheInvariantsAtTheTop() throws {
        let report = Self.sampleReport()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        let invariants = try XCTUnwrap(object["invariants"] as? [String: Any])
        XCTAssertEqual(invariants["ryw_violations_with_bookmark"] as? Int, 0)
        XCTAssertEqual(invariants["lost_acknowledged_jobs"] as? Int, 0)
        XCTAssertEqual(invariants["double_claims"] as? Int, 0)
        XCTAssertEqual(invariants["replicas_identical"] as? Bool, true)
        let region = try XCTUnwrap((object["regions"] as? [[String: Any]])?.first)
        XCTAssertNotNil((region["replication_lag_ms"] as? [String: Any])?["p99"])
        XCTAssertEqual(try SimulationReport.decode(report.json()).invariants, report.invariants)
        let table = report.table()
        XCTAssertTrue(table.contains("near"), table)
        XCTAssertTrue(table.hasSuffix("PASS"), table)
    }

    func testTheChartDrawsALinePerRegionAndEveryFault() {
        let svg = LagChart.render(Self.sampleReport())
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 3, "the gap while the replica was down splits its line in two")
        XCTAssertTrue(svg.contains("kill -9 far"), svg)
        XCTAssertTrue(svg.contains("partition continental"), svg)
    }

    static func sampleReport() -> SimulationReport {
        var near = RegionObservations()
        near.lag = (0..<20).map { LagSample(t: Double($0) / 2, lagMs: Double($0 % 3)) }
        near.latenciesMs = ["push": [3, 4, 5]]
        near.succeeded = ["push": 3]
        near.readsLocal = 10
        near.readsWithBookmark = 4
        var far = RegionObservations()
        far.lag = [LagSample(t: 0, lagMs: 120), LagSample(t: 1, lagMs: nil), LagSample(t: 2, lagMs: 900)]
        return SimulationReport(
            topology: "faults",
            durationS: 10,
            seed: 1,
            invariants: .init(
                rywViolationsWithBookmark: 0,
                lostAcknowledgedJobs: 0,
                doubleClaims: 0,
                replicasIdentical: true,
                acknowledgedJobsChecked: 3,
                claimsChecked: 2,
                bookmarkedReadsChecked: 4,
                comparedAtTxid: ["near": 12, "far": 12],
                details: []
            ),
            regions: [.init(name: "near", observations: near, durationS: 10), .init(name: "far", observations: far, durationS: 10)],
            faults: [
                FaultEvent(kind: "partition", target: "continental/primary", startS: 2, endS: 4),
                FaultEvent(kind: "kill_replica", target: "far", startS: 1, endS: 1.6),
            ]
        )
    }
}
