#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP connection to 127.0.0.1 with a read buffer.
///
/// Plain POSIX sockets, one per load-generator thread: the client shares the machine's two
/// cores with the server, and a blocking read/write pair per request is the cheapest client
/// there is (no event loop, no futures, no allocation per request beyond the response).
final class Socket {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let fd: Int32
    /// Bytes read but not yet consumed live in `buffer[start..<end]`.
    var buffer: [UInt8]
    var start = 0
    var end = 0

    init(port: Int, host: String = "127.0.0.1") throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket() failed: \(errno)") }
        var one: Int32 = 1
        // Requests are small and answered one at a time: Nagle would add 40 ms stalls.
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw Failure(description: "connect to \(host):\(port) failed: errno \(errno)")
        }
        self.fd = fd
        buffer = [UInt8](repeating: 0, count: 64 * 1024)
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            sent += n
        }
    }

    /// Reads more bytes into the buffer (compacting or growing it first); throws at EOF.
    func fill() throws {
        if start > 0 && start == end {
            start = 0
            end = 0
        } else if end == buffer.count {
            if start > 0 {
                buffer.withUnsafeMutableBufferPointer { p in
                    _ = memmove(p.baseAddress!, p.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            } else {
                buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
            }
        }
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + end, $0.count - end, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: n == 0 ? "connection closed by peer" : "recv failed: errno \(errno)") }
            end += n
            return
        }
    }

    /// Index just past the first `\r\n` at or after `from`, reading more as needed.
    func lineEnd(from: Int) throws -> Int {
        var i = from
        while true {
            while i + 1 < end {
                if buffer[i] == 13 && buffer[i + 1] == 10 { return i + 2 }
                i += 1
            }
            // fill() may move the unread bytes to the front: keep positions relative.
            let scanned = i - start
            try fill()
            i = start + scanned
        }
    }

    /// Makes sure `count` bytes are buffered from `start`.
    func need(_ count: Int) throws {
        while end - start < count {
            if start + count > buffer.count && start > 0 {
                buffer.withUnsafeMutableBufferPointer { p in
                    _ = memmove(p.baseAddress!, p.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            if count > buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: count)) }
            try fill()
        }
    }
}
