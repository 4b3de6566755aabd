import Foundation
import OJSCore
import XCTest

/// The WebDriver harness (`ChromeDriverProcess`, `WebDriverSession`) itself, against the
/// console's queue page: finding, reading, scripts, dialogs, colour schemes, screenshots and
/// the timeout message, so a console test that fails points at the console, not the harness.
final class WebDriverHarnessTests: XCTestCase {
    static let queue = "harness"

    func testHarnessDrivesTheConsoleInARealBrowser() async throws {
        let driver = try await ChromeDriverProcess.start()
        defer { driver.stop() }
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.primary.start()
        for _ in 0..<2 {
            let pushed = try await HTTP.exchange(
                "POST",
                cluster.primary.baseURL + "/ojs/v1/jobs",
                json: #"{"type":"harness.test","args":[],"options":{"queue":"\#(Self.queue)"}}"#
            )
            XCTAssertEqual(pushed.status, 201)
        }

        let session = try await driver.newSession()
        let page = cluster.primary.baseURL + "/ojs/admin/#/queues"
        try await session.navigate(to: page)
        let currentURL = try await session.currentURL()
        XCTAssertEqual(currentURL, page)

        // The queue table is drawn by the page's script after its first fetch.
        let row = try await session.waitFor(css: #"tr[data-queue="\#(Self.queue)"]"#)
        let cells = try await session.findAll(css: #"tr[data-queue="\#(Self.queue)"] td"#)
        XCTAssertEqual(cells.count, 10, "name, depth, six states, status, the pause button")
        let rowQueue = try await row.attribute("data-queue")
        XCTAssertEqual(rowQueue, Self.queue)
        let missing = try await row.attribute("data-no-such-attribute")
        XCTAssertNil(missing)
        let depthText = try await cells[1].text()
        let stats = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/queues/\(Self.queue)/stats").json
        let apiDepth = (stats["stats"] as? [String: Any])?["depth"] as? Int
        XCTAssertEqual(apiDepth, 2)
        XCTAssertEqual(Int(depthText), apiDepth, "the page shows the API's depth")

        // Scripts: arguments in, JSON out, elements as arguments.
        let result = try await session.execute(script: "return [arguments[0] + 1, arguments[1].dataset.queue]", args: [41, row.reference])
        XCTAssertEqual(result, [42, .string(Self.queue)])

        // confirm(): OK and Cancel reach the page.
        for (answer, expected) in [(true, JSONValue.bool(true)), (false, .bool(false))] {
            try await session.execute(script: "setTimeout(() => { window.answer = confirm('Delete queue harness?'); }, 0)")
            let message = try await session.waitForAlert()
            XCTAssertEqual(message, "Delete queue harness?")
            if answer { try await session.acceptAlert() } else { try await session.dismissAlert() }
            let seen = try await session.execute(script: "return window.answer")
            XCTAssertEqual(seen, expected)
        }

        // Dark mode emulation reaches CSS media queries.
        try await session.setColorScheme(.dark)
        let dark = try await session.execute(script: "return matchMedia('(prefers-color-scheme: dark)').matches")
        XCTAssertEqual(dark, true)
        try await session.setColorScheme(.light)
        let light = try await session.execute(script: "return matchMedia('(prefers-color-scheme: dark)').matches")
        XCTAssertEqual(light, false)

        try await checkScreenshots(session)
        try await checkTimeoutMessage(session)

        try await session.close()
        do {
            _ = try await session.currentURL()
            XCTFail("a closed session still answered")
        } catch {
            XCTAssertEqual(error.code, "invalid session id")
        }
    }

    /// A screenshot is a PNG of a 1280×900 page; `screenshotIfRequested` writes one only when asked.
    private func checkScreenshots(_ session: WebDriverSession) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-screenshots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("queues.png")
        try await session.screenshot(to: file)
        let png = try Data(contentsOf: file)
        XCTAssertEqual([UInt8](png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        // A blank 1280×900 PNG compresses to about 5 KB; the drawn queue page is several times that.
        XCTAssertGreaterThan(png.count, 20_000)

        let variable = WebDriverSession.screenshotsVariable
        let saved = ProcessInfo.processInfo.environment[variable]
        defer { if let saved { setenv(variable, saved, 1) } else { unsetenv(variable) } }
        unsetenv(variable)
        let none = try await session.screenshotIfRequested(name: "unrequested")
        XCTAssertNil(none)
        let requested = dir.appendingPathComponent("requested")
        setenv(variable, requested.path, 1)
        let written = try await session.screenshotIfRequested(name: "queues-dark")
        XCTAssertEqual(written?.path, requested.appendingPathComponent("queues-dark.png").path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: requested.appendingPathComponent("queues-dark.png").path))
    }

    /// A wait that times out says where the browser was and what the page showed.
    private func checkTimeoutMessage(_ session: WebDriverSession) async throws {
        do {
            try await session.waitFor(css: "#no-such-element", timeout: 0.5)
            XCTFail("waited for an element that does not exist")
        } catch let error as WebDriverError {
            XCTAssertEqual(error.code, WebDriverError.timeout)
            XCTAssertTrue(error.message.contains("/ojs/admin/"), error.message)
            XCTAssertTrue(error.message.contains(Self.queue), "the page text is in the message: \(error.message)")
        }
    }
}
