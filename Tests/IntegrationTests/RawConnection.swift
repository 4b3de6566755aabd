import Foundation

/// One TCP connection to a loopback port, spoken to byte by byte: for the tests that must
/// misbehave below HTTP (oversized heads, bodies that never finish, connections held open).
final class RawConnection {
    private var fd: Int32

    init(port: Int) throws {
        fd = try Loopback.connect(port: port)
    }

    deinit { close() }

    func close() {
        guard fd >= 0 else { return }
        Foundation.close(fd)
        fd = -1
    }

    func send(_ text: String) throws { try send(bytes: Array(text.utf8)) }

    func send(bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestFailure("send failed") }
            sent += n
        }
    }

    /// A request with a complete head; `body` may be shorter than `contentLength`.
    func sendRequest(_ method: String, _ path: String, headers: [String] = [], body: String = "", contentLength: Int? = nil) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for h in headers { head += h + "\r\n" }
        if method != "GET" || !body.isEmpty {
            head += "Content-Type: application/openjobspec+json\r\nContent-Length: \(contentLength ?? body.utf8.count)\r\n"
        }
        try send(head + "\r\n" + body)
    }

    struct Response {
        var status: Int
        var head: String
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// Reads one response with a Content-Length body; nil when the server closes first or
    /// nothing arrives within `timeout` (the socket's receive timeout: a bound, not a wait).
    func readResponse(timeout: TimeInterval) -> Response? {
        setReceiveTimeout(timeout)
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let text = String(bytes: buffer, encoding: .utf8), let split = text.range(of: "\r\n\r\n") {
                let head = String(text[..<split.lowerBound])
                let length =
                    head.split(separator: "\r\n").compactMap { line -> Int? in
                        let parts = line.split(separator: ":", maxSplits: 1)
                        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                        return Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }.first ?? 0
                let body = Array(text[split.upperBound...].utf8)
                if body.count >= length {
                    let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                    return Response(status: status, head: head, body: String(decoding: body.prefix(length), as: UTF8.self))
                }
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { return nil }
            buffer += chunk[0..<n]
        }
    }

    /// Whether the server closed the connection (end of stream) within `timeout`.
    func closedByServer(within timeout: TimeInterval) -> Bool {
        setReceiveTimeout(timeout)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    private func setReceiveTimeout(_ seconds: TimeInterval) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}
