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

    func testAFailoverNodesClusterIsShownAndALeaderlessClusterAlerts() throws {
        let node: JSONValue = [
            "role": "replica",
            "cluster": [
                "name": "jobs",
                "leader": ["name": "us", "url": "http://10.0.0.1:8080", "epoch": 7],
                "nodes": [
                    ["name": "eu", "role": "replica", "url": "http://10.0.0.2:8080", "txid": 41],
                    ["name": "us", "role": "primary", "url": "http://10.0.0.1:8080", "txid": 42],
                ],
            ],
        ]
        let cluster = try XCTUnwrap(ClusterSummary(status: node))
        XCTAssertEqual(cluster.leader, "us")
        XCTAssertEqual(cluster.leaderURL, "http://10.0.0.1:8080")
        XCTAssertEqual(cluster.epoch, 7)
        var report = StatusReport(primaryTxid: 42, replicas: [], queues: [], deadLetters: 0)
        report.cluster = cluster
        let text = report.render()
        XCTAssertTrue(text.hasPrefix("cluster jobs  leader us  epoch 7"), text)
        XCTAssertTrue(text.contains("eu            replica    41          http://10.0.0.2:8080"), text)
        XCTAssertEqual(report.alerts(maxLagMs: nil), [])
        report.cluster?.leader = nil
        XCTAssertEqual(report.alerts(maxLagMs: nil), ["cluster jobs has no leader"])
        XCTAssertNil(ClusterSummary(status: status), "a plain primary's status has no cluster")
    }
}
