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

    /// Saves the whole page, not just the viewport, as a PNG file at `url`: DevTools'
    /// `Page.captureScreenshot` with `captureBeyondViewport`, clipped to the document's size.
    func fullPageScreenshot(to url: URL) async throws {
        let size = try await execute(script: "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        guard case .array(let dims) = size, dims.count == 2, let width = dims[0].intValue, let height = dims[1].intValue else {
            throw WebDriverError(WebDriverError.invalidResponse, "no document size: \(size)")
        }
        let clip: JSONValue = ["x": 0, "y": 0, "width": .int(width), "height": .int(min(height, Self.fullPageHeightLimit)), "scale": 1]
        let answer = try await command(
            "POST",
            "/goog/cdp/execute",
            ["cmd": "Page.captureScreenshot", "params": ["format": "png", "captureBeyondViewport": true, "clip": clip]]
        )
        guard let encoded = answer["data"]?.stringValue, let png = Data(base64Encoded: encoded) else {
            throw WebDriverError(WebDriverError.invalidResponse, "captureScreenshot gave no image")
        }
        try png.write(to: url)
    }

    /// A page taller than this is cut off: 4,000 px is several screens, and keeps a docs image
    /// under a few hundred KB.
    static let fullPageHeightLimit: Int64 = 4_000

    /// Saves `<OJS_CONSOLE_SCREENSHOTS>/<name>.png` (the whole page) when that variable is set
    /// (creating the folder); does nothing otherwise, so tests can take their screenshots
    /// unconditionally. Returns the file written, if any.
    @discardableResult
    func screenshotIfRequested(name: String) async throws -> URL? {
        guard let dir = ProcessInfo.processInfo.environment[Self.screenshotsVariable], !dir.isEmpty else { return nil }
        guard !name.isEmpty, !name.contains("/") else { throw TestFailure("screenshot name must be a file name: \(name)") }
        let folder = URL(fileURLWithPath: dir, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name + ".png")
        try await fullPageScreenshot(to: file)
        return file
    }

    /// Makes the page see `prefers-color-scheme: dark` (or light), through the DevTools
    /// protocol command chromedriver relays (`goog/cdp/execute`); lasts until changed.
    func setColorScheme(_ scheme: WebDriverColorScheme) async throws(WebDriverError) {
        let feature: JSONValue = ["name": "prefers-color-scheme", "value": .string(scheme.rawValue)]
        try await command("POST", "/goog/cdp/execute", ["cmd": "Emulation.setEmulatedMedia", "params": ["features": [feature]]])
    }
}
