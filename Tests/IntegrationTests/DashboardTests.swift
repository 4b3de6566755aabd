import Foundation
import XCTest

/// The dashboard in a real headless browser (Chromium from Debian's packages): the lag chart
/// must draw a live series per replica, and the queue table must show the queues.
final class DashboardTests: XCTestCase {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func testDashboardRendersLiveLagChartAndQueues() async throws {
        try await checkDashboard(apiKey: nil)
    }

    /// With API keys set, the page takes the key from its URL fragment and sends it.
    func testDashboardWorksWithAnAPIKeyFromTheFragment() async throws {
        try await checkDashboard(apiKey: "dash-secret")
    }

    func checkDashboard(apiKey: String?) async throws {
        guard let browser = Self.chromium else {
            // CI installs Chromium and sets OJS_REQUIRE_BROWSER, so there this is a failure.
            if ProcessInfo.processInfo.environment["OJS_REQUIRE_BROWSER"] != nil { XCTFail("chromium is not installed") }
            throw XCTSkip("chromium is not installed (apt-get install chromium)")
        }
        // API keys close replication unless the nodes share a replication key too.
        let environment = apiKey.map { ["OJS_API_KEY": $0, "OJS_REPLICATION_KEY": "dash-node-key"] } ?? [:]
        let cluster = try Cluster(primaryEnvironment: environment)
        defer { cluster.stop() }
        try await cluster.primary.start()
        try await cluster.addReplica("eu", environment: environment)
        let auth = apiKey.map { ["Authorization": "Bearer \($0)"] } ?? [:]
        let pushed = try await HTTP.exchange(
            "POST",
            cluster.primary.baseURL + "/ojs/v1/jobs",
            json: #"{"type":"dash.test","args":[],"options":{"queue":"email"}}"#,
            headers: auth
        )
        XCTAssertEqual(pushed.status, 201)
        _ = try await cluster.caughtUpDigest("eu")

        let page = cluster.primary.baseURL + "/ojs/dashboard" + (apiKey.map { "#key=\($0)" } ?? "")
        let (_, dom) = try Command.run(
            URL(fileURLWithPath: browser),
            ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom", page]
        )

        XCTAssertTrue(dom.contains(#"id="lag-chart""#), "the page loaded")
        XCTAssertTrue(dom.contains(#"data-series="1""#), "one series per replica")
        let points = dom.firstMatch(of: /<polyline data-region="eu" data-points="(\d+)"/).flatMap { Int($0.1) } ?? 0
        XCTAssertGreaterThanOrEqual(points, 2, "the chart accumulated live samples for eu")
        XCTAssertTrue(dom.contains(#"<tr data-queue="email"><td>email</td><td>1</td>"#), "queue depth shown")
        XCTAssertTrue(dom.contains(#"<tr data-region="eu">"#), "replica row shown")
        XCTAssertTrue(dom.contains(#"<form id="key-form" hidden="">"#), "no key was asked for")
    }
}
