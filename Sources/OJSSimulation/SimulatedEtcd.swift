import AsyncHTTPClient
import Foundation

/// The single-member etcd a failover topology's nodes elect their leader in: a real `etcd` on
/// free loopback ports with its data under the work directory, started and stopped by the
/// simulation's supervisor like the nodes (so Ctrl-C and the normal end stop it too).
public enum SimulatedEtcd {
    /// The supervisor's name for the etcd process (its log is `logs/etcd.log`).
    static let processName = "etcd"

    /// A fresh member elects itself after its 1 s election timeout; 20 s leaves room for a
    /// machine busy with builds (the same budget as the integration tests' etcd).
    static let startTimeoutS: Double = 20

    /// Where etcd is: OJS_ETCD_BINARY, else the PATH, else /usr/bin or /usr/local/bin; nil when
    /// none exists.
    public static func binary(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit = environment["OJS_ETCD_BINARY"], FileManager.default.isExecutableFile(atPath: explicit) { return explicit }
        let dirs = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        return dirs.map { $0 + "/etcd" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts etcd under `supervisor` and returns its client URL once `/health` says healthy.
    static func start(supervisor: ProcessSupervisor, dataDirectory: URL, client: HTTPClient) async throws -> String {
        guard let binary = binary() else { throw SimulationError.etcdMissing }
        let clientPort = try PortAllocator.free()
        let peerPort = try PortAllocator.free()
        let clientURL = "http://127.0.0.1:\(clientPort)"
        let peerURL = "http://127.0.0.1:\(peerPort)"
        try supervisor.start(
            .init(
                name: processName,
                port: clientPort,
                arguments: [
                    "--name", "sim", "--data-dir", dataDirectory.path,
                    "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
                    "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL, "--initial-cluster", "sim=\(peerURL)",
                    "--logger", "zap", "--log-level", "warn",
                ],
                executable: URL(fileURLWithPath: binary)
            )
        )
        let deadline = ContinuousClock.now + .milliseconds(Int64(startTimeoutS * 1000))
        while ContinuousClock.now < deadline {
            if let r = try? await client.exchange(.GET, clientURL + "/health", timeout: .seconds(2)), r.json["health"] as? String == "true" {
                return clientURL
            }
            guard supervisor.isRunning(processName) else { throw SupervisorError.notHealthy("etcd exited during start-up") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SupervisorError.notHealthy(processName)
    }
}

/// Why a simulation could not run (as opposed to running and finding a broken invariant).
public enum SimulationError: Error, CustomStringConvertible {
    case etcdMissing
    case noLeader(String)

    public var description: String {
        switch self {
        case .etcdMissing:
            "a failover topology needs etcd, and none was found (OJS_ETCD_BINARY, the PATH, /usr/bin/etcd); "
                + "install it with apt-get install etcd-server"
        case .noLeader(let m): "the failover cluster did not settle: \(m)"
        }
    }
}
