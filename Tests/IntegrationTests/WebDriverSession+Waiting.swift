import Foundation
import OJSCore

/// Waiting for the page: pages update from timers and fetches, so a test waits for what it
/// expects to see (polling with a deadline through `eventually`) rather than sleeping.
extension WebDriverSession {
    /// The first element matching `css` once there is one.
    @discardableResult
    func waitFor(css: String, timeout: TimeInterval = defaultWaitTimeout) async throws -> WebDriverElement {
        try await waitUntil(timeout: timeout, description: "an element matches \(css)") {
            try await findAll(css: css).first
        }
    }

    /// Returns once `predicate` is true. A `no such element` or `stale element reference`
    /// from the predicate counts as "not yet" (the page is still drawing); other errors end the wait.
    func waitUntil(
        timeout: TimeInterval = defaultWaitTimeout,
        description: String,
        _ predicate: () async throws -> Bool
    ) async throws {
        let _: Bool = try await waitUntil(timeout: timeout, description: description) { try await predicate() ? true : nil }
    }

    /// The first non-nil value of `probe`, with the same rules as the `Bool` form.
    func waitUntil<T>(timeout: TimeInterval = defaultWaitTimeout, description: String, _ probe: () async throws -> T?) async throws -> T {
        do {
            return try await eventually(description, within: timeout, every: Self.pollInterval) {
                do {
                    return try await probe()
                } catch let error as WebDriverError where error.meansNotYet {
                    return nil
                }
            }
        } catch let timedOut as TestFailure {
            throw WebDriverError(WebDriverError.timeout, "\(timedOut.description) (\(timeout) s)\n\(await pageContext())")
        }
    }

    /// Where the browser is and what the page says, for a failure message a CI log can explain.
    func pageContext() async -> String {
        let url = (try? await currentURL()) ?? "(unknown)"
        do {
            let text = try await execute(script: "return document.body ? document.body.innerText : ''").stringValue ?? ""
            return "at \(url), page text: \(text.prefix(Self.pageTextInErrors))"
        } catch  where error.code == WebDriverError.unexpectedAlertOpen {
            let dialog = (try? await alertText()) ?? ""
            return "at \(url), a dialog is open: \(dialog)"
        } catch {
            return "at \(url), page text unavailable: \(error)"
        }
    }
}
