import Foundation

/// Listening sockets and addresses on 127.0.0.1, for the test's own servers and proxies.
enum Loopback {
    static func address(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    /// A socket connected to `port` on 127.0.0.1.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = address(port: port)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            close(fd)
            throw TestFailure("connect to \(port) failed")
        }
        return fd
    }

    /// A listening socket on a free port.
    static func listen() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = address(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafePointer(to: &addr, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }) == 0,
            Foundation.listen(fd, 64) == 0
        else {
            close(fd)
            throw TestFailure("loopback bind failed")
        }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// Sends all of `bytes`; false when the peer went away (MSG_NOSIGNAL: no SIGPIPE).
    @discardableResult
    static func sendAll(_ fd: Int32, _ bytes: [UInt8], count: Int? = nil) -> Bool {
        let total = count ?? bytes.count
        var sent = 0
        while sent < total {
            let m = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return send(fd, base.advanced(by: sent), total - sent, Int32(MSG_NOSIGNAL))
            }
            if m <= 0 { return false }
            sent += m
        }
        return true
    }
}
