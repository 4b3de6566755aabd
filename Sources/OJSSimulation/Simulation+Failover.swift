import AsyncHTTPClient
import Foundation
import NIOPosix

extension Simulation {
    /// The cluster name the simulated nodes elect their leader under.
    static let clusterName = "sim"

    /// How long a fresh cluster may take to elect a leader and have every other node bootstrap
    /// from it: a lease (2-3 s) plus a snapshot each on a loopback link; 60 s leaves room for a
    /// machine busy with builds.
    static let settleTimeoutS: Double = 60

    /// Failover mode: a single-member etcd, then one `ojs-edge node` per region. Other nodes
    /// reach a region's node through its `primary_link` proxy (the URL it advertises), so
    /// streams and forwarded writes pay the receiving region's link; its clients go through
    /// its client link as in the other mode. etcd is reached directly.
    func startFailoverNodes(
        client: HTTPClient,
        group: MultiThreadedEventLoopGroup,
        rng: inout SplitMix,
        proxies: inout [LinkProxy]
    ) async throws -> Deployment {
        let topology = options.topology
        let dir = options.workDirectory
        let etcd = try await SimulatedEtcd.start(supervisor: supervisor, dataDirectory: dir.appendingPathComponent("etcd"), client: client)
        log("etcd on \(etcd)")
        var deployment = Deployment(links: [:], clientURLs: [:], nodeURLs: [:])
        for region in topology.regions {
            let port = try PortAllocator.free()
            let inbound = try await LinkProxy.start(
                name: "nodes->\(region.name)",
                link: region.primaryLink,
                upstreamPort: port,
                seed: rng.next(),
                group: group
            )
            proxies.append(inbound)
            var arguments = [
                "node", "--etcd", etcd, "--cluster", Self.clusterName, "--region", region.name, "--advertise", "http://127.0.0.1:\(inbound.port)",
                "--host", "127.0.0.1", "--port", "\(port)", "--data-dir", dir.appendingPathComponent("node-\(region.name)").path,
                "--sync-replicas", "\(topology.syncReplicas ?? 0)", "--consistency-wait-ms", "\(topology.consistencyWaitMs ?? 2000)",
                "--log-level", "warning",
            ]
            if let ttl = topology.leaseTtlMs { arguments += ["--lease-ttl-ms", "\(ttl)"] }
            try supervisor.start(.init(name: region.name, port: port, arguments: arguments))
            try await deployment.addRegion(
                region,
                nodePort: port,
                toPrimary: inbound,
                seed: rng.next(),
                group: group,
                proxies: &proxies
            )
        }
        let names = topology.regions.map(\.name)
        let probe = ClusterProbe(client: client, nodeURLs: deployment.nodeURLs)
        guard let leader = await probe.awaitSettled(among: names, timeoutS: Self.settleTimeoutS) else {
            throw SimulationError.noLeader("no leader with every other node streaming from it after \(Int(Self.settleTimeoutS)) s (see logs/)")
        }
        deployment.initialLeader = leader
        log("\(leader) leads; \(names.filter { $0 != leader }.joined(separator: ", ")) follow (sync replicas \(topology.syncReplicas ?? 0))")
        return deployment
    }

    /// The failover section of the report, from the leader kills the timeline played and the
    /// writes' answers as clients saw them.
    func failoverReport(
        deployment: Deployment,
        finalLeader: String?,
        faults: [FaultEvent],
        observations: Observations,
        invariants: SimulationReport.Invariants,
        start: ContinuousClock.Instant
    ) -> FailoverReport {
        let answers = observations.writesAnswered().map { (t: Double(($0.at - start) / .microseconds(1)) / 1e6, servedBy: $0.servedBy) }
        let kills = faults.filter { $0.kind == Topology.Fault.Kind.killLeader.rawValue && $0.target != FaultTimeline.noLeader }
        let regions = observations.snapshot().regions.values
        return FailoverReport(
            syncReplicas: options.topology.syncReplicas ?? 0,
            leaseTtlMs: options.topology.leaseTtlMs,
            initialLeader: deployment.initialLeader,
            finalLeader: finalLeader,
            acknowledgedWritesLost: invariants.lostAcknowledgedJobs,
            acknowledgedWritesChecked: invariants.acknowledgedJobsChecked,
            staleReads: regions.reduce(0) { $0 + $1.staleReadsWithoutBookmark },
            readsWithoutBookmark: regions.reduce(0) { $0 + $1.readsWithoutBookmark },
            leaderKills: kills.map { FailoverReport.LeaderKill.measure(killed: $0.target, atS: $0.startS, answers: answers) }
        )
    }
}
