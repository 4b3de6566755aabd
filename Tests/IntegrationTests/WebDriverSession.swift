import Foundation
import OJSCore

/// One W3C WebDriver session: a headless Chromium that a test drives like a person would
/// (navigate, find by CSS, click, type, answer `confirm()`), over chromedriver's HTTP/JSON.
/// Get one from `ChromeDriverProcess.newSession()`; `close()` quits the browser (and
/// `ChromeDriverProcess.stop()` kills it if a failing test never got there).
struct WebDriverSession: Sendable {
    let id: String
    let transport: WebDriverTransport

    /// The new headless mode (the same renderer as a windowed browser); `--no-sandbox` because
    /// CI and test containers run as root, where Chromium will not start sandboxed; no GPU
    /// there either. A 1280×900 window gives a 1280×757 viewport (measured with Chromium 156:
    /// headless keeps room for browser chrome), which is what screenshots show.
    static let chromiumArguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"]

    /// How long `waitFor` and `waitUntil` wait by default: the pages poll the API every 1 s,
    /// so 10 s is several refreshes even on a machine busy with builds.
    static let defaultWaitTimeout: TimeInterval = 10
    /// How often a wait looks again: a page update is a few milliseconds of script, and each
    /// look is one round trip to chromedriver on loopback.
    static let pollInterval: Duration = .milliseconds(50)
    /// How much of the page's text a timed-out wait puts in its message.
    static let pageTextInErrors = 2_000

    /// Starts a browser. `unhandledPromptBehavior: ignore` leaves a `confirm()` open until
    /// the test answers it: the W3C default ("dismiss and notify") would silently answer
    /// "Cancel" on the next command, and a test of a destructive action would pass untested.
    static func create(transport: WebDriverTransport, browser: String, profile: URL) async throws(WebDriverError) -> WebDriverSession {
        let options: JSONValue = [
            "binary": .string(browser),
            "args": .array((chromiumArguments + ["--user-data-dir=\(profile.path)"]).map { .string($0) }),
        ]
        let capabilities: JSONValue = [
            "capabilities": ["alwaysMatch": ["browserName": "chrome", "unhandledPromptBehavior": "ignore", "goog:chromeOptions": options]]
        ]
        let value = try await transport.send("POST", "/session", capabilities)
        guard let id = value["sessionId"]?.stringValue else {
            throw WebDriverError(WebDriverError.invalidResponse, "new session without sessionId: \(JSONWriter.serialize(value).prefix(500))")
        }
        return WebDriverSession(id: id, transport: transport)
    }

    /// One command of this session (`path` is relative to `/session/{id}`).
    @discardableResult
    func command(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws(WebDriverError) -> JSONValue {
        // A POST always carries a JSON object (chromedriver rejects an empty body); other
        // methods carry none. (`JSONValue` takes a `nil` literal as JSON null: spell out `.none`.)
        let payload: JSONValue? = body ?? (method == "POST" ? .object(JSONObject()) : .none)
        return try await transport.send(method, "/session/\(id)" + path, payload)
    }

    /// Quits the browser and ends the session.
    func close() async throws(WebDriverError) {
        try await transport.send("DELETE", "/session/\(id)")
    }

    // MARK: Navigation

    /// Loads `url` and returns once its load event has fired.
    func navigate(to url: String) async throws(WebDriverError) {
        try await command("POST", "/url", ["url": .string(url)])
    }

    func currentURL() async throws(WebDriverError) -> String {
        try await string(command("GET", "/url"), "current URL")
    }

    // MARK: Elements

    /// The first element matching `css`; `no such element` when there is none.
    func find(css: String) async throws(WebDriverError) -> WebDriverElement {
        try await element(command("POST", "/element", ["using": "css selector", "value": .string(css)]))
    }

    /// Every element matching `css`, in document order (empty when none).
    func findAll(css: String) async throws(WebDriverError) -> [WebDriverElement] {
        let value = try await command("POST", "/elements", ["using": "css selector", "value": .string(css)])
        guard let list = value.arrayValue else { throw WebDriverError(WebDriverError.invalidResponse, "elements: \(value.typeName)") }
        var elements: [WebDriverElement] = []
        for item in list { elements.append(try element(item)) }
        return elements
    }

    private func element(_ value: JSONValue) throws(WebDriverError) -> WebDriverElement {
        guard let id = value[WebDriverElement.referenceKey]?.stringValue else {
            throw WebDriverError(WebDriverError.invalidResponse, "not an element reference: \(JSONWriter.serialize(value).prefix(200))")
        }
        return WebDriverElement(session: self, id: id)
    }

    func string(_ value: JSONValue, _ what: String) throws(WebDriverError) -> String {
        guard let s = value.stringValue else { throw WebDriverError(WebDriverError.invalidResponse, "\(what): \(value.typeName)") }
        return s
    }

    // MARK: Scripts

    /// Runs `script` as the body of a function (`return` gives the result; `arguments[i]` is
    /// `args[i]`, an element passed as `element.reference`) and returns what it returned.
    @discardableResult
    func execute(script: String, args: [JSONValue] = []) async throws(WebDriverError) -> JSONValue {
        try await command("POST", "/execute/sync", ["script": .string(script), "args": .array(args)])
    }

    // MARK: Dialogs (`alert`, `confirm`, `prompt`)

    /// Answers the open dialog with OK.
    func acceptAlert() async throws(WebDriverError) { try await command("POST", "/alert/accept") }

    /// Answers the open dialog with Cancel.
    func dismissAlert() async throws(WebDriverError) { try await command("POST", "/alert/dismiss") }

    /// The open dialog's message; `no such alert` when none is open.
    func alertText() async throws(WebDriverError) -> String {
        try await string(command("GET", "/alert/text"), "alert text")
    }

    /// The message of a dialog once one is open (a page may open it from a timer or after a fetch).
    func waitForAlert(timeout: TimeInterval = defaultWaitTimeout) async throws -> String {
        try await waitUntil(timeout: timeout, description: "a dialog opens") { () async throws -> String? in
            do {
                return try await alertText()
            } catch let error as WebDriverError where error.code == WebDriverError.noSuchAlert {
                return nil
            }
        }
    }
}
