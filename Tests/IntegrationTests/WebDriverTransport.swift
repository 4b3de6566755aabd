import AsyncHTTPClient
import Foundation
import NIOCore
import OJSCore

/// W3C WebDriver's wire format over HTTP: JSON bodies, every answer `{"value": …}`, an error
/// being a value with `error` and `message`. Lossless JSON (OJSCore's `JSONValue`) because
/// Foundation's `JSONSerialization` cannot tell `true` from `1` on Linux. AsyncHTTPClient, not
/// URLSession: chromedriver sends `Content-Length:252` (no space after the colon), which
/// URLSession on Linux rejects with "Failed writing header".
struct WebDriverTransport: Sendable {
    /// `http://127.0.0.1:<chromedriver port>`.
    let baseURL: String

    /// Creating a session starts Chromium (about 0.7 s on an idle machine) and navigation
    /// waits for the page's load event; 60 s leaves room for a machine busy with three builds
    /// while still ending a hung command well inside a CI job's time.
    static let requestTimeout: TimeAmount = .seconds(60)
    /// The largest answer read: a 1280×900 screenshot is about 0.3 MB of base64; 32 MiB
    /// leaves room for a full-page one of a long table.
    static let maxResponseBytes = 32 << 20

    /// Sends one command and returns its `value`; a W3C error answer becomes a `WebDriverError`.
    @discardableResult
    func send(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws(WebDriverError) -> JSONValue {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(body)))
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        }
        let data: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: Self.requestTimeout)
            data = try await response.body.collect(upTo: Self.maxResponseBytes)
        } catch {
            throw WebDriverError(WebDriverError.transport, "\(method) \(path): \(error)")
        }
        let answer: JSONValue
        do {
            answer = try JSONParser.parse(Array(data.readableBytesView))
        } catch {
            let text = String(decoding: data.readableBytesView.prefix(500), as: UTF8.self)
            throw WebDriverError(WebDriverError.invalidResponse, "\(method) \(path): \(error): \(text)")
        }
        guard let value = answer["value"] else {
            throw WebDriverError(WebDriverError.invalidResponse, "\(method) \(path): no value in \(JSONWriter.serialize(answer).prefix(500))")
        }
        if let code = value["error"]?.stringValue {
            // chromedriver appends a native stack trace in `stacktrace`; the message is what helps.
            throw WebDriverError(code, "\(method) \(path): \(value["message"]?.stringValue ?? "")")
        }
        return value
    }
}
