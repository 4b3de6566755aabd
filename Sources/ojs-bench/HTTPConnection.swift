/// One HTTP/1.1 keep-alive connection: writes a prebuilt request, reads one response.
///
/// Just enough HTTP for the benchmark: status line, `Content-Length` or chunked bodies.
final class HTTPConnection {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    let socket: Socket
    let port: Int

    init(port: Int) throws {
        self.port = port
        socket = try Socket(port: port)
    }

    static func request(_ method: String, _ path: String, body: [UInt8]? = nil) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }

    func send(_ request: [UInt8]) throws -> Response {
        try socket.write(request)
        return try readResponse()
    }

    private func readResponse() throws -> Response {
        let s = socket
        // Headers end at the first empty line.
        var offset = 0  // relative to s.start, which fill() may move
        var headerEnd = 0
        while true {
            let next = try s.lineEnd(from: s.start + offset)
            let rel = next - s.start
            if rel - offset == 2 && offset > 0 {
                headerEnd = next
                break
            }
            offset = rel
        }
        let head = Array(s.buffer[s.start..<headerEnd])
        s.start = headerEnd
        guard head.count > 12, let status = Int(String(decoding: head[9..<12], as: UTF8.self)) else {
            throw Socket.Failure(description: "bad status line")
        }
        var contentLength = 0
        var chunked = false
        for line in head.split(separator: 10) {
            let text = String(decoding: line, as: UTF8.self).lowercased()
            if text.hasPrefix("content-length:") {
                contentLength = Int(trimmed(text.dropFirst(15))) ?? 0
            } else if text.hasPrefix("transfer-encoding:") && text.contains("chunked") {
                chunked = true
            }
        }
        if !chunked {
            try s.need(contentLength)
            let body = Array(s.buffer[s.start..<(s.start + contentLength)])
            s.start += contentLength
            return Response(status: status, body: body)
        }
        var body: [UInt8] = []
        while true {
            let sizeEnd = try s.lineEnd(from: s.start)
            let sizeText = String(decoding: s.buffer[s.start..<(sizeEnd - 2)], as: UTF8.self)
            s.start = sizeEnd
            let size = Int(sizeText.split(separator: ";").first.map(String.init) ?? "", radix: 16) ?? 0
            try s.need(size + 2)
            body.append(contentsOf: s.buffer[s.start..<(s.start + size)])
            s.start += size + 2
            if size == 0 { return Response(status: status, body: body) }
        }
    }
}

/// Drops spaces and the carriage return around a header value.
private func trimmed(_ s: Substring) -> String {
    var sub = s
    while let f = sub.first, f == " " || f == "\r" { sub = sub.dropFirst() }
    while let l = sub.last, l == " " || l == "\r" { sub = sub.dropLast() }
    return String(sub)
}
