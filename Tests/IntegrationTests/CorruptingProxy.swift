import Foundation

/// A loopback TCP proxy that flips one byte in the body of the first response to a request
/// containing `marker` (on a kept-alive connection: the first response after that request),
/// and relays everything else untouched.
final class CorruptingProxy: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let marker: String
    private let bodyOffset: Int
    private let listener: Int32
    private let lock = NSLock()
    private var corrupted = false
    private(set) var corruptions = 0

    init(upstreamPort: Int, marker: String, bodyOffset: Int) throws {
        self.upstreamPort = upstreamPort
        self.marker = marker
        self.bodyOffset = bodyOffset
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = Self.loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafePointer(to: &addr, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }) == 0,
            listen(fd, 64) == 0
        else { throw TestFailure("proxy bind failed") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listener = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    deinit { close(listener) }

    static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = Self.loopback(port: upstreamPort)
            let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard ok == 0 else {
                close(client)
                close(upstream)
                continue
            }
            let tampered = Flag()
            Thread { [self] in pump(from: client, to: upstream, inspectRequest: tampered) }.start()
            Thread { [self] in pump(from: upstream, to: client, corruptIf: tampered) }.start()
        }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    private func pump(from: Int32, to: Int32, inspectRequest: Flag? = nil, corruptIf: Flag? = nil) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var bodyStart: Int?
        var seen = 0
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { break }
            // Connections are kept alive, so any request on this one may be the marked one.
            if let inspectRequest {
                let line = String(decoding: buffer[0..<min(n, 400)], as: UTF8.self)
                let claim = lock.withLock { () -> Bool in
                    guard !corrupted, line.contains(marker) else { return false }
                    corrupted = true
                    return true
                }
                if claim { inspectRequest.set() }
            }
            if let corruptIf, corruptIf.isSet {
                if bodyStart == nil, let end = Self.headerEnd(buffer, count: n) { bodyStart = seen + end }
                if let start = bodyStart {
                    let target = start + bodyOffset
                    if target >= seen, target < seen + n, lock.withLock({ corruptions == 0 }) {
                        buffer[target - seen] ^= 0x5A
                        lock.withLock { corruptions += 1 }
                    }
                }
            }
            seen += n
            var sent = 0
            while sent < n {
                // MSG_NOSIGNAL: a peer that went away must not SIGPIPE the test process.
                let m = buffer.withUnsafeBytes { raw -> Int in
                    guard let base = raw.baseAddress else { return -1 }
                    return send(to, base.advanced(by: sent), n - sent, Int32(MSG_NOSIGNAL))
                }
                if m <= 0 { break }
                sent += m
            }
        }
        shutdown(to, Int32(SHUT_WR))
        close(from)
    }

    static func headerEnd(_ b: [UInt8], count: Int) -> Int? {
        guard count >= 4 else { return nil }
        for i in 0...(count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
        return nil
    }
}
