import Foundation
import OJSCore

/// An element found in a `WebDriverSession`'s page. It goes stale when the page replaces it
/// (a table redrawn from a fetch): find it again rather than keeping it across updates.
struct WebDriverElement: Sendable {
    let session: WebDriverSession
    let id: String

    /// The key of a W3C element reference (fixed by the spec, https://www.w3.org/TR/webdriver2/#elements).
    static let referenceKey = "element-6066-11e4-a52e-4f735466cecf"

    /// This element as a script argument (`arguments[i]` in `execute(script:args:)`).
    var reference: JSONValue { [Self.referenceKey: .string(id)] }

    /// The rendered text, as a person sees it (hidden parts left out).
    func text() async throws(WebDriverError) -> String {
        try await session.string(session.command("GET", "/element/\(id)/text"), "element text")
    }

    /// The attribute's value, or nil when the element does not have it.
    func attribute(_ name: String) async throws(WebDriverError) -> String? {
        let path = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
        return try await session.command("GET", "/element/\(id)/attribute/\(path)").stringValue
    }

    /// Clicks the element's centre (scrolling it into view); fails when something covers it.
    func click() async throws(WebDriverError) { try await session.command("POST", "/element/\(id)/click") }

    /// Types `text` into the element (after what it holds; `clear()` first to replace it).
    func sendKeys(_ text: String) async throws(WebDriverError) {
        try await session.command("POST", "/element/\(id)/value", ["text": .string(text)])
    }

    /// Empties an input or textarea.
    func clear() async throws(WebDriverError) { try await session.command("POST", "/element/\(id)/clear") }
}
