import XCTest

@testable import OJSCore

final class StatusReportTests: XCTestCase {
    let status: JSONValue = [
        "txid": 42,
        "replicas": [
            ["region": "eu", "state": "streaming", "lag_transactions": 0, "lag_ms": 3, "last_contact": "t"],
            ["region": "ap", "state": "catching_up", "lag_transactions": 9, "lag_ms": 900, "last_contact": "t"],
        ],
    ]

    func testExitRuleFollowsMaxLagAndDisconnection() {
        var report = StatusReport(primaryTxid: 42, replicas: StatusReport.replicas(fromStatus: status), queues: [], deadLetters: 0)
        XCTAssertEqual(report.alerts(maxLagMs: nil), [], "without a bound, lag alone is no alert")
        XCTAssertEqual(report.alerts(maxLagMs: 1000), [])
        XCTAssertEqual(report.alerts(maxLagMs: 500), ["replica ap lags 900 ms (limit 500 ms)"])
        report.replicas[0].state = "disconnected"
        XCTAssertEqual(report.alerts(maxLagMs: nil), ["replica eu is disconnected"])
    }

    func testTableShowsReplicasAndQueues() {
        let report = StatusReport(
            primaryTxid: 42,
            replicas: StatusReport.replicas(fromStatus: status),
            queues: [StatusReport.Queue(name: "email", depth: 12, available: 10, oldestAgeMs: 65_000, paused: false)],
            deadLetters: 2
        )
        let text = report.render()
        XCTAssertTrue(text.contains("eu            streaming    0         3"), text)
        XCTAssertTrue(text.contains("email                   12        10        65s       active"), text)
        XCTAssertTrue(text.contains("dead letters: 2"))
    }
}
