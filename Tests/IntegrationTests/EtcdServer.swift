import Foundation
import XCTest

/// A real single-member etcd on loopback (Debian's `etcd-server`), in a temporary directory,
/// for the failover tests. Tests that need it are skipped when `etcd` is not installed, unless
/// `OJS_REQUIRE_ETCD=1` (CI sets it), which turns a missing etcd into a failure.
final class EtcdServer {
    let clientPort: Int
    let peerPort: Int
    let dataDir: URL
    private var process: Process?

    var url: String { "http://127.0.0.1:\(clientPort)" }

    static var executable: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin"] {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("etcd")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Skips the calling test when etcd is missing and not required.
    static func requireInstalled() throws -> URL {
        if let executable { return executable }
        if ProcessInfo.processInfo.environment["OJS_REQUIRE_ETCD"] == "1" {
            throw TestFailure("etcd is required (OJS_REQUIRE_ETCD=1) but not installed: apt-get install etcd-server")
        }
        throw XCTSkip("etcd is not installed (apt-get install etcd-server)")
    }

    init(root: URL) throws {
        clientPort = try PortAllocator.free()
        peerPort = try PortAllocator.free()
        dataDir = root.appendingPathComponent("etcd")
    }

    func start() async throws {
        let p = Process()
        p.executableURL = try Self.requireInstalled()
        let peer = "http://127.0.0.1:\(peerPort)"
        p.arguments = [
            "--name", "test", "--data-dir", dataDir.path,
            "--listen-client-urls", url, "--advertise-client-urls", url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "test=\(peer)", "--log-level", "error",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        try await eventually("etcd answers on \(url)", within: 20) {
            let r = try? await HTTP.exchange("GET", url + "/health")
            return r?.status == 200
        }
    }

    func stop() {
        guard let p = process else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    deinit { stop() }
}
