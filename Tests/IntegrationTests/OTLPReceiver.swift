import Foundation

/// A test OTLP/HTTP collector on loopback: takes `POST /v1/traces` with JSON bodies (the
/// server under test runs with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), answers `{}` and
/// keeps every span.
final class OTLPReceiver: @unchecked Sendable {
    struct Span {
        var service: String
        var traceId: String
        var spanId: String
        var parentSpanId: String
        var name: String
        /// OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
        var kind: Int
        var start: UInt64
        var end: UInt64
        var attributes: [String: String]
        var links: [(traceId: String, spanId: String)]
        /// OTLP's status code: 0 unset, 1 ok, 2 error.
        var status: Int
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var received: [Span] = []

    init() throws {
        (listener, port) = try Loopback.listen()
        Thread { [self] in
            while true {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                Thread { [self] in serve(fd) }.start()
            }
        }.start()
    }

    deinit { close(listener) }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The environment that points an `ojs-edge` process here, exporting every 50 ms.
    var environment: [String: String] {
        [
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "none", "OTEL_BSP_SCHEDULE_DELAY": "50",
        ]
    }

    var spans: [Span] { lock.withLock { received } }

    /// Polls the received spans until `find` returns a value (a condition, not a sleep).
    func wait<T>(timeout: TimeInterval = 20, _ what: String, _ find: ([Span]) -> T?) async throws -> T {
        try await eventually(
            "a \(what) arrives",
            within: timeout,
            every: .milliseconds(25),
            failure: { "\(spans.count) spans: \(spans.map { "\($0.service)/\($0.name)" })" }
        ) { find(spans) }
    }

    /// Kept-alive HTTP/1.1 requests with a Content-Length body, as the exporter sends them.
    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            while FaultProxy.headerEnd(pending, count: pending.count) == nil {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                pending += chunk[0..<n]
            }
            guard let headerEnd = FaultProxy.headerEnd(pending, count: pending.count) else { return }
            let head = String(decoding: pending[0..<headerEnd], as: UTF8.self).lowercased()
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            while pending.count < headerEnd + length {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { return }
                pending += chunk[0..<n]
            }
            let body = Data(pending[headerEnd..<(headerEnd + length)])
            pending.removeFirst(headerEnd + length)
            if head.hasPrefix("post /v1/traces") { record(body) }
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
            guard Loopback.sendAll(fd, Array(answer.utf8)) else { return }
        }
    }

    private func record(_ body: Data) {
        guard let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return }
        var spans: [Span] = []
        for resourceSpans in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let resource = Self.attributes((resourceSpans["resource"] as? [String: Any])?["attributes"])
            for scope in resourceSpans["scopeSpans"] as? [[String: Any]] ?? [] {
                for s in scope["spans"] as? [[String: Any]] ?? [] {
                    spans.append(
                        Span(
                            service: resource["service.name"] ?? "",
                            traceId: Self.id(s["traceId"]),
                            spanId: Self.id(s["spanId"]),
                            parentSpanId: Self.id(s["parentSpanId"]),
                            name: s["name"] as? String ?? "",
                            kind: Self.int(s["kind"]),
                            start: UInt64(Self.int(s["startTimeUnixNano"])),
                            end: UInt64(Self.int(s["endTimeUnixNano"])),
                            attributes: Self.attributes(s["attributes"]),
                            links: (s["links"] as? [[String: Any]] ?? []).map { (Self.id($0["traceId"]), Self.id($0["spanId"])) },
                            status: Self.int((s["status"] as? [String: Any])?["code"])
                        )
                    )
                }
            }
        }
        lock.withLock { received += spans }
    }

    /// Ids as lowercase hex, whether the exporter wrote hex (OTLP's JSON rule) or base64
    /// (protobuf's generic JSON mapping of bytes).
    static func id(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func int(_ value: Any?) -> Int {
        if let n = value as? Int { return n }
        if let s = value as? String { return Int(s) ?? 0 }
        return 0
    }

    /// OTLP key-value attributes flattened to text.
    static func attributes(_ value: Any?) -> [String: String] {
        var out: [String: String] = [:]
        for entry in value as? [[String: Any]] ?? [] {
            guard let key = entry["key"] as? String, let v = entry["value"] as? [String: Any], let first = v.first else { continue }
            out[key] = "\(first.value)"
        }
        return out
    }
}
