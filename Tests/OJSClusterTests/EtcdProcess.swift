import Foundation
import XCTest

/// A real single-member etcd on loopback, on free ports with a temporary data directory, for
/// tests of the cluster code. Self-contained (Foundation and XCTest only) so any test target can
/// compile this same file: Tests/IntegrationTests holds a symbolic link to it.
///
///     let etcd = try await EtcdProcess.start()   // skips the test when etcd is not installed
///     defer { etcd.stop() }
///     ... etcd.endpoint ...
///
/// Without `etcd` on the PATH (or at /usr/bin/etcd) the test is skipped with a message, unless
/// OJS_REQUIRE_ETCD=1, where it fails instead (CI sets it where etcd is installed).
final class EtcdProcess: @unchecked Sendable {
    // @unchecked: `process` and `dataDir` are set in init and only read afterwards; `stop()`
    // is idempotent through Process itself (terminate on an exited process does nothing).
    let clientPort: Int
    let peerPort: Int
    let dataDir: URL
    private let process: Process
    private let logPath: String

    /// `http://127.0.0.1:<client port>`.
    var endpoint: String { "http://127.0.0.1:\(clientPort)" }

    /// How long a fresh single member may take to elect itself and answer: its election
    /// timeout is 1 s; 20 s leaves room for a machine busy with builds.
    static let startTimeout: TimeInterval = 20

    /// Where etcd is: OJS_ETCD_BINARY, else the PATH, else /usr/bin/etcd; nil when none exists.
    static var binary: String? {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["OJS_ETCD_BINARY"], FileManager.default.isExecutableFile(atPath: explicit) { return explicit }
        let dirs = (env["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        return dirs.map { $0 + "/etcd" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts etcd and waits until `/health` answers healthy. Throws XCTSkip when etcd is not
    /// installed (a failure with OJS_REQUIRE_ETCD=1).
    static func start() async throws -> EtcdProcess {
        guard let binary else {
            let message = "etcd is not installed (apt-get install etcd-server); set OJS_ETCD_BINARY or install it to run this test"
            if ProcessInfo.processInfo.environment["OJS_REQUIRE_ETCD"] == "1" { throw EtcdProcessError(message + " (OJS_REQUIRE_ETCD=1)") }
            throw XCTSkip(message)
        }
        let etcd = try EtcdProcess(binary: binary)
        try await etcd.waitUntilHealthy()
        return etcd
    }

    private init(binary: String) throws {
        clientPort = try Self.freePort()
        peerPort = try Self.freePort()
        dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        logPath = dataDir.appendingPathComponent("etcd.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let client = "http://127.0.0.1:\(clientPort)"
        let peer = "http://127.0.0.1:\(peerPort)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--name", "t", "--data-dir", dataDir.appendingPathComponent("data").path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "t=\(peer)",
            "--logger", "zap", "--log-level", "warn",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: logPath) ?? FileHandle.nullDevice
        try process.run()
    }

    deinit { stop() }

    /// Kills etcd (SIGKILL: nothing of it is needed after the test) and removes its data.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDir)
    }

    /// The end of etcd's log, for a failure message.
    var logTail: String { String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(2000)) }

    private func waitUntilHealthy() async throws {
        let deadline = Date().addingTimeInterval(Self.startTimeout)
        while Date() < deadline {
            if Self.healthAnswer(port: clientPort)?.contains("\"health\":\"true\"") == true { return }
            guard process.isRunning else { throw EtcdProcessError("etcd exited during start-up: \(logTail)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw EtcdProcessError("etcd did not become healthy within \(Self.startTimeout) s: \(logTail)")
    }

    /// `GET /health` over a plain socket (no HTTP client needed); nil when nothing answered.
    private static func healthAnswer(port: Int) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = loopback(port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var answer = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return answer.isEmpty ? nil : String(decoding: answer, as: UTF8.self)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    /// A port free right now (bound to 0, read back, closed). Another process could take it
    /// before etcd binds it; etcd then fails at start and the test says so.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { throw EtcdProcessError("no free loopback port") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// Why an etcd test process could not be started.
struct EtcdProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
