import Foundation

/// A loopback TCP proxy that injects a fault into the response to each of the first `times`
/// requests containing a marker (on a kept-alive connection: the first response after that
/// request), and relays everything else untouched. Each marker has its own count.
final class FaultProxy: @unchecked Sendable {
    enum Fault {
        /// Flip one byte of the response body, `bodyOffset` bytes in.
        case flipByte(bodyOffset: Int)
        /// Close the connection instead of relaying the response: the upstream has done the
        /// work, the client never hears of it.
        case dropResponse
        /// Relay the response head and the first `bytes` of its body, then close the
        /// connection: a download interrupted midway.
        case cutBody(afterBytes: Int)
        /// Relay everything untouched (to count requests).
        case none
    }

    let port: Int
    private let upstreamPort: Int
    private let fault: Fault
    private let listener: Int32
    private let lock = NSLock()
    /// Faults left to inject, per marker.
    private var remaining: [String: Int]
    private var injected = 0
    /// How many times the fault was injected (at most `times`).
    var faults: Int { lock.withLock { injected } }
    private var requestCount = 0
    /// Requests relayed to the upstream so far (request lines seen).
    var requests: Int { lock.withLock { requestCount } }

    convenience init(upstreamPort: Int, marker: String, fault: Fault, times: Int = 1) throws {
        try self.init(upstreamPort: upstreamPort, markers: [marker: times], fault: fault)
    }

    init(upstreamPort: Int, markers: [String: Int], fault: Fault) throws {
        self.upstreamPort = upstreamPort
        self.fault = fault
        self.remaining = markers
        (listener, port) = try Loopback.listen()
        Thread { [self] in acceptLoop() }.start()
    }

    deinit { close(listener) }

    /// Injects no more faults from now on.
    func disarm() { lock.withLock { remaining = [:] } }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = Loopback.address(port: upstreamPort)
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard ok == 0 else {
                close(client)
                close(upstream)
                continue
            }
            let tampered = Flag()
            Thread { [self] in pump(from: client, to: upstream, inspectRequest: tampered) }.start()
            Thread { [self] in pump(from: upstream, to: client, faultIf: tampered) }.start()
        }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    private func pump(from: Int32, to: Int32, inspectRequest: Flag? = nil, faultIf: Flag? = nil) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var bodyStart: Int?
        var seen = 0
        var dropping = false
        var injectedHere = false
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { break }
            // After a drop the client is gone; drain the upstream until it closes too.
            if dropping { continue }
            // Connections are kept alive, so any request on this one may be the marked one.
            if let inspectRequest {
                let requestLines = String(decoding: buffer[0..<n], as: UTF8.self).components(separatedBy: " HTTP/1.1\r\n").count - 1
                lock.withLock { requestCount += requestLines }
                let line = String(decoding: buffer[0..<min(n, 400)], as: UTF8.self)
                let claim = lock.withLock { () -> Bool in
                    guard let marker = remaining.first(where: { $0.value > 0 && line.contains($0.key) })?.key else { return false }
                    remaining[marker, default: 0] -= 1
                    return true
                }
                if claim { inspectRequest.set() }
            }
            if let faultIf, faultIf.isSet, !injectedHere {
                switch fault {
                case .dropResponse:
                    lock.withLock { injected += 1 }
                    injectedHere = true
                    dropping = true
                    shutdown(to, Int32(SHUT_RDWR))
                    continue
                case .cutBody(let limit):
                    if bodyStart == nil, let end = Self.headerEnd(buffer, count: n) { bodyStart = seen + end }
                    if let start = bodyStart, seen + n > start + limit {
                        let keep = max(0, start + limit - seen)
                        _ = Loopback.sendAll(to, buffer, count: keep)
                        lock.withLock { injected += 1 }
                        dropping = true
                        shutdown(to, Int32(SHUT_RDWR))
                        continue
                    }
                case .none:
                    break
                case .flipByte(let bodyOffset):
                    if bodyStart == nil, let end = Self.headerEnd(buffer, count: n) { bodyStart = seen + end }
                    if let start = bodyStart {
                        let target = start + bodyOffset
                        if target >= seen, target < seen + n {
                            buffer[target - seen] ^= 0x5A
                            lock.withLock { injected += 1 }
                            injectedHere = true
                        }
                    }
                }
            }
            seen += n
            if !Loopback.sendAll(to, buffer, count: n) { break }
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
