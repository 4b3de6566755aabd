import AsyncHTTPClient
import Foundation
import NIOCore

/// The processes of one run as the workload, the fault timeline and the end checks see them,
/// whichever way they were started (a fixed primary with replicas, or failover nodes).
struct Deployment: Sendable {
    /// Each region's two proxies: the one partitions cut between nodes, and its clients' one.
    var links: [String: FaultTimeline.RegionLinks]
    /// Region → the URL its clients use (through the client link).
    var clientURLs: [String: String]
    /// Region → its node's own URL (no proxy), for the lag sampler and the end checks.
    var nodeURLs: [String: String]
    /// The fixed primary's own URL; nil in failover mode, where the leader moves.
    var primaryURL: String?
    /// Failover mode: the node that led when the workload started.
    var initialLeader: String?
}

extension Deployment {
    /// Records a region whose node listens on `nodePort`, reached by other nodes through
    /// `toPrimary`, and starts its clients' proxy (its `client_link`; 0.5 ms when none), in
    /// both modes alike.
    mutating func addRegion(
        _ region: Topology.Region,
        nodePort: Int,
        toPrimary: LinkProxy,
        seed: UInt64,
        group: any EventLoopGroup,
        proxies: inout [LinkProxy]
    ) async throws {
        let toClients = try await LinkProxy.start(
            name: "clients->\(region.name)",
            link: region.clientLink ?? Topology.Link(latencyMs: 0.5),
            upstreamPort: nodePort,
            seed: seed,
            group: group
        )
        proxies.append(toClients)
        links[region.name] = .init(toPrimary: toPrimary, toClients: toClients)
        nodeURLs[region.name] = "http://127.0.0.1:\(nodePort)"
        clientURLs[region.name] = "http://127.0.0.1:\(toClients.port)"
    }
}

/// The failover cluster as its nodes report it, asked of each node directly.
struct ClusterProbe: Sendable {
    let client: HTTPClient
    let nodeURLs: [String: String]

    private func status(_ name: String) async -> [String: Any]? {
        guard let url = nodeURLs[name], let r = try? await client.exchange(.GET, url + "/ojs/v1/replication/status", timeout: .seconds(2))
        else { return nil }
        return r.json
    }

    /// The leader as `among` report it, once that leader itself says it is the primary.
    func leader(among names: [String]) async -> String? {
        for name in names {
            guard let cluster = await status(name)?["cluster"] as? [String: Any],
                let leader = (cluster["leader"] as? [String: Any])?["name"] as? String, names.contains(leader)
            else { continue }
            if await status(leader)?["role"] as? String == "primary" { return leader }
        }
        return nil
    }

    /// The leader, once every other node of `names` follows it and streams.
    func settled(among names: [String]) async -> String? {
        guard let leader = await leader(among: names) else { return nil }
        for name in names where name != leader {
            let s = await status(name)
            guard s?["role"] as? String == "replica", s?["state"] as? String == "streaming" else { return nil }
        }
        return leader
    }

    /// Polls `settled` until it names a leader or `timeoutS` passes.
    func awaitSettled(among names: [String], timeoutS: Double) async -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutS * 1000))
        while ContinuousClock.now < deadline {
            if let leader = await settled(among: names) { return leader }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
