import Foundation
import OJSCore

/// Screenshots of what the browser shows, for the docs (`scripts/console-screenshots`) and for
/// looking at a failure.
extension WebDriverSession {
    /// The folder `screenshotIfRequested` writes to; unset, it writes nothing.
    static let screenshotsVariable = "OJS_CONSOLE_SCREENSHOTS"

    /// Saves the viewport as a PNG file at `url`.
    func screenshot(to url: URL) async throws {
        let encoded = try await string(command("GET", "/screenshot"), "screenshot")
        guard let png = Data(base64Encoded: encoded) else { throw WebDriverError(WebDriverError.invalidResponse, "screenshot is not base64") }
        try png.write(to: url)
    }

    /// Saves `<OJS_CONSOLE_SCREENSHOTS>/<name>.png` when that variable is set (creating the
    /// folder); does nothing otherwise, so tests can take their screenshots unconditionally.
    /// Returns the file written, if any.
    @discardableResult
    func screenshotIfRequested(name: String) async throws -> URL? {
        guard let dir = ProcessInfo.processInfo.environment[Self.screenshotsVariable], !dir.isEmpty else { return nil }
        guard !name.isEmpty, !name.contains("/") else { throw TestFailure("screenshot name must be a file name: \(name)") }
        let folder = URL(fileURLWithPath: dir, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name + ".png")
        try await screenshot(to: file)
        return file
    }

    /// Makes the page see `prefers-color-scheme: dark` (or light), through the DevTools
    /// protocol command chromedriver relays (`goog/cdp/execute`); lasts until changed.
    func setColorScheme(_ scheme: WebDriverColorScheme) async throws(WebDriverError) {
        let feature: JSONValue = ["name": "prefers-color-scheme", "value": .string(scheme.rawValue)]
        try await command("POST", "/goog/cdp/execute", ["cmd": "Emulation.setEmulatedMedia", "params": ["features": [feature]]])
    }
}
