import Foundation
import OJSCore
import XCTest

/// The operator console in a real browser (Debian's Chromium through chromedriver), against a
/// primary and a replica with API keys: every page opens and shows the API's numbers, numbers
/// change live, and the actions (pause, retry a dead letter, disable a cron entry) reach the
/// primary. With `OJS_CONSOLE_SCREENSHOTS=<dir>` each page is also saved as a PNG
/// (`scripts/console-screenshots`, the images in `docs/console.md`).
final class ConsoleBrowserTests: XCTestCase {
    static let key = "console-secret"
    static let auth = ["Authorization": "Bearer \(key)"]
    static let environment = ["OJS_API_KEY": key, "OJS_REPLICATION_KEY": "console-node-key"]

    /// A call to `base` that must succeed; its JSON object.
    @discardableResult
    func api(_ method: String, _ base: String, _ path: String, _ json: String? = nil) async throws -> [String: Any] {
        let r = try await HTTP.exchange(method, base + path, json: json, headers: Self.auth)
        guard (200..<300).contains(r.status) else { throw TestFailure("\(method) \(path): \(r.status) \(r.json)") }
        return r.json
    }

    /// Pushes `count` jobs to `queue`; their ids.
    func push(_ base: String, queue: String, count: Int, options: String = "") async throws -> [String] {
        var ids: [String] = []
        for i in 0..<count {
            let body = #"{"type":"console.\#(queue)","args":[\#(i)],"options":{"queue":"\#(queue)"\#(options)}}"#
            let job = try await api("POST", base, "/ojs/v1/jobs", body)["job"] as? [String: Any]
            ids.append(job?["id"] as? String ?? "")
        }
        return ids
    }

    /// Claims every available job of `queue` and nacks them for good: they become dead letters.
    func deadLetter(_ base: String, queue: String, count: Int) async throws -> [String] {
        _ = try await push(base, queue: queue, count: count, options: #","retry":{"max_attempts":1,"on_exhaustion":"dead_letter"}"#)
        let claimed = try await api("POST", base, "/ojs/v1/workers/fetch", #"{"queues":["\#(queue)"],"count":\#(count)}"#)
        let ids = (claimed["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        for id in ids {
            let error = #"{"code":"timeout","type":"TimeoutError","message":"upstream took 30 s","retryable":false}"#
            try await api("POST", base, "/ojs/v1/workers/nack", #"{"job_id":"\#(id)","error":\#(error)}"#)
        }
        return ids
    }

    /// A primary and a replica in `eu` with keys, and jobs in the states the pages show.
    func startCluster() async throws -> Cluster {
        let cluster = try Cluster(primaryEnvironment: Self.environment)
        try await cluster.primary.start()
        try await cluster.addReplica("eu", environment: Self.environment)
        let base = cluster.primary.baseURL
        _ = try await push(base, queue: "email", count: 3)
        _ = try await deadLetter(base, queue: "reports", count: 2)
        try await api("POST", base, "/ojs/v1/cron", #"{"name":"nightly-report","cron":"0 3 * * *","type":"report.build","args":[]}"#)
        try await api("POST", base, "/ojs/v1/workers/heartbeat", #"{"worker_id":"w-console","active_jobs":[]}"#)
        _ = try await cluster.caughtUpDigest("eu")
        return cluster
    }

    func text(_ session: WebDriverSession, _ css: String) async throws -> String {
        try await session.find(css: css).text()
    }

    /// Waits until the element's text is `expected`.
    func waitForText(_ session: WebDriverSession, _ css: String, _ expected: String) async throws {
        try await session.waitUntil(description: "\(css) reads \(expected)") { try await text(session, css) == expected }
    }

    /// Fails when the page shows an error notice: a failed call or a script error on the page
    /// (the console reports both there), which a test looking only at its own element misses.
    func assertNoErrorNotice(_ session: WebDriverSession, _ page: String) async throws {
        let shown = try await session.execute(
            script: "const n = document.querySelector('#notice.error:not([hidden])'); return n ? n.textContent : null"
        )
        XCTAssertEqual(shown, .null, "\(page): the page reported an error")
    }

    /// Clicks a button that asks for a confirmation, and confirms.
    func clickAndConfirm(_ session: WebDriverSession, _ css: String) async throws {
        try await session.find(css: css).click()
        _ = try await session.waitForAlert()
        try await session.acceptAlert()
    }

    func testEveryPageShowsTheAPIsNumbersUpdatesLiveAndActsOnThePrimary() async throws {
        let driver = try await ChromeDriverProcess.start()
        defer { driver.stop() }
        let cluster = try await startCluster()
        defer { cluster.stop() }
        let base = cluster.primary.baseURL
        let session = try await driver.newSession()

        // The old dashboard's address redirects, and the key in the fragment survives it.
        try await session.navigate(to: base + "/ojs/dashboard#key=\(Self.key)")
        try await session.waitUntil(description: "the console took the key and routed to the overview") {
            try await session.currentURL() == base + "/ojs/admin/#/overview"
        }

        // Overview: the cards and the queue table are the API's numbers.
        let overview = try await api("GET", base, "/ojs/v1/admin/overview")
        let available = (overview["jobs"] as? [String: Any])?["available"] as? Int
        XCTAssertEqual(available, 3)
        try await waitForText(session, #"[data-stat="available"] .value"#, "3")
        let emailDepth = try await api("GET", base, "/ojs/v1/queues/email/stats")["stats"] as? [String: Any]
        try await waitForText(session, #"tr[data-queue="email"] td[data-field="depth"]"#, "\(emailDepth?["depth"] as? Int ?? -1)")
        let keyFormHidden = try await session.find(css: "#key-form").attribute("hidden")
        XCTAssertNotNil(keyFormHidden, "no key was asked for")
        // The lag chart draws a series for the replica, over time.
        try await session.waitUntil(description: "the lag chart has two samples for eu") {
            let line = try await session.find(css: #"#lag-chart polyline[data-name="eu"]"#)
            return Int(try await line.attribute("data-points") ?? "") ?? 0 >= 2
        }
        let ticks = try await session.findAll(css: "#lag-chart text.tick")
        XCTAssertGreaterThanOrEqual(ticks.count, 4, "a time axis: a labelled tick a minute over five minutes")

        // Live: jobs worked now show as completed per second; a failure arrives on the stream.
        _ = try await push(base, queue: "live", count: 5)
        let claimed = try await api("POST", base, "/ojs/v1/workers/fetch", #"{"queues":["live"],"count":5}"#)
        for job in claimed["jobs"] as? [[String: Any]] ?? [] {
            try await api("POST", base, "/ojs/v1/workers/ack", #"{"job_id":"\#(job["id"] as? String ?? "")"}"#)
        }
        try await session.waitUntil(description: "the overview shows completions per second") {
            Double(try await text(session, #"[data-stat="completed_per_second"] .value"#)) ?? 0 > 0
        }
        let failed = try await deadLetter(base, queue: "reports", count: 1)
        try await session.waitFor(css: "#feed tr[data-event] a[href=\"#/job/\(failed[0])\"]")
        try await assertNoErrorNotice(session, "overview")
        try await session.screenshotIfRequested(name: "overview")
        try await session.setColorScheme(.dark)
        try await assertNoErrorNotice(session, "overview-dark")
        try await session.screenshotIfRequested(name: "overview-dark")
        try await session.setColorScheme(.light)

        // Queues: pause from the page; the API agrees.
        try await session.navigate(to: base + "/ojs/admin/#/queues")
        try await waitForText(session, #"tr[data-queue="email"] td[data-field="depth"]"#, "3")
        try await clickAndConfirm(session, #"button[data-queue="email"][data-action="pause"]"#)
        try await waitForText(session, #"tr[data-queue="email"] td[data-field="status"]"#, "paused")
        let paused = try await api("GET", base, "/ojs/v1/queues/email/stats")["status"] as? String
        XCTAssertEqual(paused, "paused")
        try await assertNoErrorNotice(session, "queues")
        try await session.screenshotIfRequested(name: "queues")
        try await clickAndConfirm(session, #"button[data-queue="email"][data-action="resume"]"#)
        try await waitForText(session, #"tr[data-queue="email"] td[data-field="status"]"#, "active")

        // Jobs: the filtered list is the API's list.
        try await session.navigate(to: base + "/ojs/admin/#/jobs?state=available&queue=email")
        let listed = try await api("GET", base, "/ojs/v1/admin/jobs?state=available&queue=email")["items"] as? [[String: Any]] ?? []
        let listedIds = listed.compactMap { $0["id"] as? String }
        XCTAssertEqual(listedIds.count, 3)
        try await session.waitUntil(description: "the job list shows the API's three jobs") {
            let rows = try await session.findAll(css: "#jobs tr[data-job]")
            var ids: [String] = []
            for row in rows { ids.append(try await row.attribute("data-job") ?? "") }
            return ids == listedIds
        }
        try await session.navigate(to: base + "/ojs/admin/#/jobs")
        try await session.waitFor(css: "#jobs tr[data-job]")
        try await assertNoErrorNotice(session, "jobs")
        try await session.screenshotIfRequested(name: "jobs")

        // A job's page follows its state live, without a reload.
        let watched = listedIds[0]
        try await session.navigate(to: base + "/ojs/admin/#/job/\(watched)")
        try await session.waitFor(css: #"#job-state[data-state="available"]"#)
        try await waitForText(session, "#live-status", "live")
        try await session.execute(script: "window.notReloaded = true")
        let worked = try await api("POST", base, "/ojs/v1/workers/fetch", #"{"queues":["email"],"count":3}"#)
        XCTAssertTrue((worked["jobs"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == watched })
        try await api("POST", base, "/ojs/v1/workers/ack", #"{"job_id":"\#(watched)","result":{"sent":true}}"#)
        try await session.waitFor(css: #"#job-state[data-state="completed"]"#)
        try await session.waitFor(css: "#job-events tr[data-event]:last-child")
        let events = try await text(session, "#job-events")
        XCTAssertTrue(events.contains("job.enqueued") && events.contains("job.started") && events.contains("job.completed"), events)
        let stayed = try await session.execute(script: "return window.notReloaded === true")
        XCTAssertEqual(stayed, true, "the state changed without a reload")
        try await assertNoErrorNotice(session, "job")
        try await session.screenshotIfRequested(name: "job")

        // Cancel a running job from its page, then retry it: both reach the primary.
        let running = listedIds[1]
        try await session.navigate(to: base + "/ojs/admin/#/job/\(running)")
        try await session.waitFor(css: #"#job-state[data-state="active"]"#)
        try await clickAndConfirm(session, "#cancel")
        try await session.waitFor(css: #"#job-state[data-state="cancelled"]"#)
        try await clickAndConfirm(session, "#retry")
        try await session.waitFor(css: #"#job-state[data-state="available"]"#)
        let requeued = try await api("GET", base, "/ojs/v1/jobs/\(running)")["job"] as? [String: Any]
        XCTAssertEqual(requeued?["state"] as? String, "available")
        XCTAssertEqual(requeued?["attempt"] as? Int, 0)
        try await assertNoErrorNotice(session, "job actions")

        // Dead letter: retry one from the page; the API shows it available again.
        try await session.navigate(to: base + "/ojs/admin/#/dead-letter")
        let dlq = try await api("GET", base, "/ojs/v1/admin/dead-letter/stats")["total"] as? Int
        XCTAssertEqual(dlq, 3)
        try await waitForText(session, #"[data-stat="total"] .value"#, "3")
        try await session.waitUntil(description: "three dead letters listed") {
            try await session.findAll(css: "#dead-letters tr[data-job]").count == 3
        }
        try await assertNoErrorNotice(session, "dead-letter")
        try await session.screenshotIfRequested(name: "dead-letter")
        let retried = failed[0]
        try await clickAndConfirm(session, #"button[data-action="retry"][data-id="\#(retried)"]"#)
        try await session.waitUntil(description: "the retried job left the list") {
            try await session.findAll(css: "#dead-letters tr[data-job]").count == 2
        }
        let retriedJob = try await api("GET", base, "/ojs/v1/jobs/\(retried)")["job"] as? [String: Any]
        XCTAssertEqual(retriedJob?["state"] as? String, "available")

        // Workers, cron (disable from the page) and settings.
        try await session.navigate(to: base + "/ojs/admin/#/workers")
        try await session.waitFor(css: #"tr[data-worker="w-console"]"#)
        try await assertNoErrorNotice(session, "workers")
        try await session.screenshotIfRequested(name: "workers")
        try await session.navigate(to: base + "/ojs/admin/#/cron")
        try await waitForText(session, #"tr[data-cron="nightly-report"] td[data-field="enabled"]"#, "yes")
        try await assertNoErrorNotice(session, "cron")
        try await session.screenshotIfRequested(name: "cron")
        try await clickAndConfirm(session, #"button[data-cron="nightly-report"][data-action="disable"]"#)
        try await waitForText(session, #"tr[data-cron="nightly-report"] td[data-field="enabled"]"#, "no")
        let crons = try await api("GET", base, "/ojs/v1/cron")["crons"] as? [[String: Any]] ?? []
        XCTAssertEqual(crons.first?["enabled"] as? Bool, false)
        try await session.navigate(to: base + "/ojs/admin/#/settings")
        try await waitForText(session, #"#node-fields dd[data-field="role"]"#, "primary")
        try await assertNoErrorNotice(session, "settings")
        try await session.screenshotIfRequested(name: "settings")
        try await session.close()
    }

    /// On a replica the pages read its copy and its own lag, the key comes from the form the
    /// page shows after a 401, and an action taken there is forwarded to the primary.
    func testOnAReplicaThePagesReadTheLocalCopyAndActionsReachThePrimary() async throws {
        let driver = try await ChromeDriverProcess.start()
        defer { driver.stop() }
        let cluster = try await startCluster()
        defer { cluster.stop() }
        let primary = cluster.primary.baseURL
        let replica = try XCTUnwrap(cluster.replicas["eu"]).baseURL
        let session = try await driver.newSession()

        try await session.navigate(to: replica + "/ojs/admin/")
        try await session.waitUntil(description: "the page asks for a key") { try await session.find(css: "#key-form").attribute("hidden") == nil }
        try await session.find(css: "#key-input").sendKeys(Self.key)
        try await session.find(css: "#key-form button").click()
        try await waitForText(session, #"[data-stat="available"] .value"#, "3")
        try await session.waitUntil(description: "the replica's own lag is charted") {
            Int(try await session.find(css: #"#lag-chart polyline[data-name="eu"]"#).attribute("data-points") ?? "") ?? 0 >= 2
        }
        let updated = try await text(session, "#overview-updated")
        XCTAssertTrue(updated.hasPrefix("replica eu"), updated)

        try await session.navigate(to: replica + "/ojs/admin/#/dead-letter")
        try await session.waitUntil(description: "two dead letters listed") {
            try await session.findAll(css: "#dead-letters tr[data-job]").count == 2
        }
        let id = try await session.find(css: "#dead-letters tr[data-job]").attribute("data-job") ?? ""
        try await clickAndConfirm(session, #"button[data-action="retry"][data-id="\#(id)"]"#)
        // The page reloads its list with the write's bookmark, so the replica's answer already
        // has the retry in it.
        try await session.waitUntil(description: "the retried job left the replica's list") {
            try await session.findAll(css: "#dead-letters tr[data-job]").count == 1
        }
        try await assertNoErrorNotice(session, "the replica's dead letters")
        let onPrimary = try await api("GET", primary, "/ojs/v1/jobs/\(id)")["job"] as? [String: Any]
        XCTAssertEqual(onPrimary?["state"] as? String, "available")
        try await session.close()
    }
}
