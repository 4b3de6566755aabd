import Foundation

/// A failed WebDriver command: the W3C error code (`"no such element"`, `"no such alert"`,
/// `"timeout"`, …) and chromedriver's message, or one of this harness's own codes when no
/// W3C answer came back (`transport`, `invalid response`).
struct WebDriverError: Error, Sendable, CustomStringConvertible {
    let code: String
    let message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "WebDriver \(code): \(message)" }

    // W3C codes the harness itself looks at (https://www.w3.org/TR/webdriver2/#errors).
    static let noSuchElement = "no such element"
    static let staleElementReference = "stale element reference"
    static let noSuchAlert = "no such alert"
    static let unexpectedAlertOpen = "unexpected alert open"
    static let timeout = "timeout"

    // The harness's own codes: chromedriver could not be reached, or its answer was not W3C JSON.
    static let transport = "transport"
    static let invalidResponse = "invalid response"

    /// While waiting for a page to change, these only mean "not there yet".
    var meansNotYet: Bool { code == Self.noSuchElement || code == Self.staleElementReference }
}
