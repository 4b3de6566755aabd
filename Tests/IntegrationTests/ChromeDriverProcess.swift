import Foundation
import OJSCore
import XCTest

/// Debian's chromedriver (package `chromium-driver`) on a free loopback port, driving Debian's
/// Chromium, for tests that need a real browser (the operator console's pages):
///
///     let driver = try await ChromeDriverProcess.start()   // skips when not installed
///     defer { driver.stop() }                              // runs on failure too
///     let session = try await driver.newSession()
///     try await session.navigate(to: server.baseURL + "/ojs/admin/")
///
/// Without chromedriver or Chromium the test is skipped, unless OJS_REQUIRE_BROWSER is set
/// (CI installs both and sets it), where it fails instead — as in `DashboardTests`.
final class ChromeDriverProcess {
    let port: Int
    /// Holds chromedriver's log and one Chromium profile per session, so `stop()` can remove
    /// everything a killed browser left behind.
    let directory: URL
    /// The Chromium each session runs (`goog:chromeOptions.binary`).
    let browser: String
    private let transport: WebDriverTransport
    private let process: Process
    private var sessionCount = 0

    /// Where chromedriver is: the PATH, else /usr/bin (Debian's `chromium-driver` puts it there).
    static var driverBinary: String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        return dirs.map { $0 + "/chromedriver" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Debian's Chromium (`/usr/bin/chromium`; `chromium-browser` on Ubuntu-like systems).
    static var browserBinary: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// chromedriver answers `/status` within about 0.1 s on an idle machine; 20 s leaves room
    /// for one busy with builds.
    static let startTimeout: TimeInterval = 20

    /// Starts chromedriver and waits until `GET /status` says it is ready for new sessions.
    /// Throws XCTSkip when chromedriver or Chromium is missing (a failure with OJS_REQUIRE_BROWSER).
    static func start() async throws -> ChromeDriverProcess {
        guard let driver = driverBinary, let browser = browserBinary else {
            let message = "chromedriver or chromium is not installed (apt-get install chromium chromium-driver)"
            if ProcessInfo.processInfo.environment["OJS_REQUIRE_BROWSER"] != nil {
                throw TestFailure(message + "; OJS_REQUIRE_BROWSER is set")
            }
            throw XCTSkip(message)
        }
        let process = try ChromeDriverProcess(driver: driver, browser: browser)
        do {
            try await process.waitUntilReady()
        } catch {
            process.stop()
            throw error
        }
        return process
    }

    private static let logName = "chromedriver.log"
    private var logPath: String { directory.appendingPathComponent(Self.logName).path }

    private init(driver: String, browser: String) throws {
        self.browser = browser
        port = try ServerProcess.freePort()
        transport = WebDriverTransport(baseURL: "http://127.0.0.1:\(port)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-chromedriver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=\(port)"]
        let logPath = directory.appendingPathComponent(Self.logName).path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath) ?? FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    deinit { stop() }

    /// The end of chromedriver's log, for a failure message.
    var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(2000)) }

    private func waitUntilReady() async throws {
        var lastAnswer = "no answer yet"
        let _: Bool = try await eventually(
            "chromedriver on port \(port) is ready",
            within: Self.startTimeout,
            failure: { "last /status: \(lastAnswer); log: \(logTail)" }
        ) {
            do {
                let status = try await transport.send("GET", "/status")
                if status["ready"]?.boolValue == true { return true }
                lastAnswer = JSONWriter.serialize(status)
            } catch {
                lastAnswer = "\(error)"
            }
            guard process.isRunning else { throw TestFailure("chromedriver exited during start-up: \(logTail)") }
            return nil
        }
    }

    /// A new browser session (a fresh Chromium with its own profile), headless at 1280×900.
    func newSession() async throws -> WebDriverSession {
        sessionCount += 1
        let profile = directory.appendingPathComponent("profile-\(sessionCount)")
        return try await WebDriverSession.create(transport: transport, browser: browser, profile: profile)
    }

    /// Kills every browser this driver started that is still running (a test that failed
    /// before `close()`), then chromedriver, and removes the profiles and log. Idempotent.
    ///
    /// SIGKILL, not SIGTERM: `Process` starts children with the test process's blocked signals
    /// (SIGTERM among them under XCTest), so chromedriver and Chromium never see a SIGTERM;
    /// nothing of either is needed once the test is over.
    func stop() {
        for pid in browserProcesses() { kill(pid, SIGKILL) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// This driver's browsers, found by their command line naming a profile in `directory`
    /// (also one whose session never finished starting; a reused process id never matches).
    /// Chromium's renderer and GPU processes exit on their own once their browser is gone.
    private func browserProcesses() -> [Int32] {
        let marker = "--user-data-dir=" + directory.path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(marker)
        }
    }
}
