import Foundation

/// One Server-Sent Events stream read over a raw socket, parsed exactly as the official SDKs
/// parse it (`ojs/subscribe.py`, `src/subscribe.ts`): the body split on `\n`; `event:` sets the
/// type, `id:` the id, `data:` lines are joined with `\n`; a blank line ends an event, which is
/// delivered only if it has data. The SDKs ignore comments; this reader also keeps them, so a
/// test can see heartbeats. A thread reads; everything it records is under `lock`.
final class SSEStream: @unchecked Sendable {
    struct Event: Equatable {
        var id: String
        var type: String
        var data: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:] }
    }

    private let lock = NSLock()
    private var fd: Int32
    private var status: Int?
    private var head = ""
    private var received: [Event] = []
    private var commentLines: [String] = []
    private var ended = false
    private var thread: Thread?

    /// Opens `GET path` on a loopback port with `headers` (`Name: value` lines).
    init(port: Int, path: String, headers: [String] = []) throws {
        fd = try Loopback.connect(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
        for h in headers { request += h + "\r\n" }
        let bytes = Array((request + "\r\n").utf8)
        let sent = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw TestFailure("send failed") }
        let socket = fd
        let reader = Thread { [weak self] in self?.read(socket) }
        thread = reader
        reader.start()
    }

    deinit { close() }

    /// Closes the client side (the server notices at its next write).
    func close() {
        lock.withLock {
            guard fd >= 0 else { return }
            shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    var statusCode: Int? { lock.withLock { status } }
    var responseHead: String { lock.withLock { head } }
    var events: [Event] { lock.withLock { received } }
    var comments: [String] { lock.withLock { commentLines } }
    /// True once the server ended the body (or the connection).
    var isEnded: Bool { lock.withLock { ended } }

    /// A response header's value (case-insensitive name).
    func header(_ name: String) -> String? {
        for line in responseHead.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// Waits until the stream is open (status 200 and the `: connected` comment arrived).
    func waitUntilConnected(within seconds: TimeInterval = 10) async throws {
        try await eventually("the event stream is open", within: seconds) { comments.contains(" connected") || isEnded }
        guard statusCode == 200 else { throw TestFailure("stream answered \(statusCode ?? 0): \(responseHead)") }
    }

    /// Waits until `count` events arrived and returns them.
    func waitForEvents(_ count: Int, within seconds: TimeInterval = 10) async throws -> [Event] {
        try await eventually("\(count) events arrived", within: seconds, failure: { "\(self.events.map(\.type))" }) {
            let seen = events
            return seen.count >= count ? seen : nil
        }
    }

    // MARK: Reading (the reader thread)

    private func read(_ socket: Int32) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16384)
        var headDone = false
        var chunked = false
        var body = [UInt8]()  // decoded body bytes not yet parsed into lines
        var parser = LineParser()
        while true {
            let n = recv(socket, &chunk, chunk.count, 0)
            if n <= 0 { break }
            buffer += chunk[0..<n]
            if !headDone {
                guard let end = Self.find([13, 10, 13, 10], in: buffer) else { continue }
                let headText = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                headDone = true
                chunked = headText.lowercased().contains("transfer-encoding: chunked")
                let code = Int(headText.split(separator: " ").dropFirst().first ?? "") ?? 0
                lock.withLock {
                    head = headText
                    status = code
                }
            }
            if chunked {
                // size CRLF data CRLF, repeated; a zero size ends the body.
                while let lineEnd = Self.find([13, 10], in: buffer) {
                    let sizeText = String(decoding: buffer[0..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                    guard let size = Int(sizeText, radix: 16) else { break }
                    guard buffer.count >= lineEnd + 2 + size + 2 else { break }
                    if size == 0 {
                        finish(socket)
                        return
                    }
                    body += buffer[(lineEnd + 2)..<(lineEnd + 2 + size)]
                    buffer.removeFirst(lineEnd + 2 + size + 2)
                }
            } else {
                body += buffer
                buffer.removeAll()
            }
            // Split on "\n" as the SDKs do; the last, unfinished line stays in `body`.
            while let newline = body.firstIndex(of: 10) {
                let line = String(decoding: body[0..<newline], as: UTF8.self)
                body.removeFirst(newline + 1)
                switch parser.take(line) {
                case .event(let event): lock.withLock { received.append(event) }
                case .comment(let text): lock.withLock { commentLines.append(text) }
                case .none: break
                }
            }
        }
        finish(socket)
    }

    /// The reader thread owns closing the socket (after `close()` only shut it down).
    private func finish(_ socket: Int32) {
        lock.withLock {
            ended = true
            Foundation.close(socket)
            fd = -1
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    /// The SDKs' line rules.
    private struct LineParser {
        enum Output {
            case event(Event)
            case comment(String)
        }
        var type = ""
        var id = ""
        var data = ""

        mutating func take(_ line: String) -> Output? {
            if line.isEmpty {
                defer { (type, id, data) = ("", "", "") }
                return data.isEmpty ? nil : .event(Event(id: id, type: type.isEmpty ? "message" : type, data: data))
            }
            if line.hasPrefix(":") { return .comment(String(line.dropFirst())) }
            if line.hasPrefix("event:") { type = Self.value(line.dropFirst(6)) }
            if line.hasPrefix("id:") { id = Self.value(line.dropFirst(3)) }
            if line.hasPrefix("data:") {
                let chunk = Self.value(line.dropFirst(5))
                data = data.isEmpty ? chunk : data + "\n" + chunk
            }
            return nil
        }

        static func value(_ s: Substring) -> String { String(s.drop { $0 == " " || $0 == "\t" }) }
    }
}
