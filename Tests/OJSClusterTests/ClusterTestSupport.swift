import AsyncHTTPClient
import Foundation
import Logging
import NIOPosix
import OJSCluster
import OJSSimulation

/// What the etcd tests share: one etcd process, one HTTP client, members on it, and proxies
/// to cut a member off from etcd.
final class ClusterHarness: @unchecked Sendable {
    // @unchecked: `proxies` is appended to by the test's own task only, before `shutdown`.
    let etcd: EtcdProcess
    let http: HTTPClient
    private var proxies: [LinkProxy] = []

    /// The lease TTL of test members: etcd's 2 s minimum, so expiry tests stay short.
    static let leaseTTLms = 2000

    init() async throws {
        etcd = try await EtcdProcess.start()
        http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    /// A client straight to etcd.
    var client: EtcdClient { EtcdClient(endpoints: [etcd.endpoint], client: http) }

    /// A loopback proxy in front of etcd that the test can partition (it then resets every
    /// connection and refuses new ones).
    func proxy() async throws -> LinkProxy {
        let proxy = try await LinkProxy.start(
            name: "etcd",
            link: Topology.Link(latencyMs: 0),
            upstreamPort: etcd.clientPort,
            seed: 1,
            group: MultiThreadedEventLoopGroup.singleton
        )
        proxies.append(proxy)
        return proxy
    }

    /// A member of cluster "t" named `name`, through `proxy` when given.
    func member(_ name: String, through proxy: LinkProxy? = nil, cluster: String = "t") -> ClusterMember {
        let endpoint = proxy.map { "http://127.0.0.1:\($0.port)" } ?? etcd.endpoint
        let config = ClusterMemberConfig(
            cluster: cluster,
            name: name,
            advertiseURL: "http://\(name).test:8080",
            leaseTTLms: Self.leaseTTLms
        )
        var logger = Logger(label: "ojs.cluster.test.\(name)")
        // Warnings would be every keep-alive a test cuts off on purpose.
        logger.logLevel = .error
        return ClusterMember(config: config, etcd: EtcdClient(endpoints: [endpoint], client: http), logger: logger)
    }

    func shutdown() async throws {
        for proxy in proxies { proxy.close() }
        try await http.shutdown()
        etcd.stop()
    }

    static func position(_ txid: UInt64, generation: String = "g1", role: NodeRole = .replica) -> NodePosition {
        NodePosition(generation: generation, txid: txid, checksum: UInt32(truncatingIfNeeded: txid &* 2_654_435_761), role: role)
    }

    static var now: Int64 { ClusterMemberConfig.systemMonotonicMs() }
}

extension ClusterHarness {
    /// Runs `body` against a fresh etcd and always shuts it down after.
    static func with(_ body: (ClusterHarness) async throws -> Void) async throws {
        let harness = try await ClusterHarness()
        do {
            try await body(harness)
        } catch {
            try? await harness.shutdown()
            throw error
        }
        try await harness.shutdown()
    }
}
