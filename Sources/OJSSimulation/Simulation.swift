import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One run: start the primary and a replica per region behind link proxies, drive every
/// region's workload while the fault timeline plays, heal, verify the invariants, report.
public struct Simulation: Sendable {
    public struct Options: Sendable {
        public var topology: Topology
        public var durationS: Double
        public var seed: UInt64
        /// The `ojs-edge` binary to run the nodes with (normally this process's own).
        public var executable: URL
        /// Where the nodes' data and logs go; kept after the run when `keepData`.
        public var workDirectory: URL
        public var keepData: Bool
        /// How often each replica's lag is sampled.
        public var sampleIntervalMs: Int = 250

        public init(topology: Topology, durationS: Double, seed: UInt64, executable: URL, workDirectory: URL, keepData: Bool) {
            self.topology = topology
            self.durationS = durationS
            self.seed = seed
            self.executable = executable
            self.workDirectory = workDirectory
            self.keepData = keepData
        }
    }

    public let options: Options
    public let supervisor: ProcessSupervisor
    let log: @Sendable (String) -> Void

    public init(options: Options, log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.log = log
        self.supervisor = ProcessSupervisor(executable: options.executable, logDirectory: options.workDirectory.appendingPathComponent("logs"))
    }

    public func run() async throws -> SimulationReport {
        let fm = FileManager.default
        try fm.createDirectory(at: options.workDirectory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        config.timeout = .init(connect: .seconds(3), read: .seconds(15))
        let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: config)
        var proxies: [LinkProxy] = []
        do {
            let report = try await runNodes(client: client, group: group, proxies: &proxies)
            await shutdown(client: client, group: group, proxies: proxies)
            return report
        } catch {
            await shutdown(client: client, group: group, proxies: proxies)
            throw error
        }
    }

    private func shutdown(client: HTTPClient, group: MultiThreadedEventLoopGroup, proxies: [LinkProxy]) async {
        supervisor.teardown()
        for p in proxies { p.close() }
        try? await client.shutdown()
        try? await group.shutdownGracefully()
        if !options.keepData { try? FileManager.default.removeItem(at: options.workDirectory) }
    }

    private func runNodes(client: HTTPClient, group: MultiThreadedEventLoopGroup, proxies: inout [LinkProxy]) async throws -> SimulationReport {
        let topology = options.topology
        var rng = SplitMix(options.seed)
        let deployment =
            topology.isFailover
            ? try await startFailoverNodes(client: client, group: group, rng: &rng, proxies: &proxies)
            : try await startPrimaryAndReplicas(client: client, group: group, rng: &rng, proxies: &proxies)
        let links = deployment.links
        let clientURLs = deployment.clientURLs
        let nodeURLs = deployment.nodeURLs
        let primaryURL = deployment.primaryURL
        let probe = ClusterProbe(client: client, nodeURLs: nodeURLs)
        let observations = Observations(regions: topology.regions.map(\.name))
        let start = ContinuousClock.now
        let until = start + .milliseconds(Int64(options.durationS * 1000))
        let visibility = topology.visibilityTimeoutMs ?? 5000
        let timeline = FaultTimeline(
            faults: topology.faults ?? [],
            start: start,
            links: links,
            nodes: .init(
                kill: { [supervisor] name in supervisor.kill9(name) },
                restart: { [self] name in
                    try supervisor.restart(name)
                    let url = name == "primary" ? primaryURL ?? "" : nodeURLs[name] ?? ""
                    try await waitUntilAnswering(name, url: url, healthy: name == "primary", client: client)
                },
                leader: { [supervisor] in await probe.leader(among: nodeURLs.keys.filter { supervisor.isRunning($0) }.sorted()) }
            )
        )
        log("workload running for \(Int(options.durationS)) s")
        let sampler = LagSampler(
            client: client,
            replicaURLs: nodeURLs,
            start: start,
            until: until,
            intervalMs: options.sampleIntervalMs,
            observations: observations
        )
        let faults = await withTaskGroup(of: [FaultEvent].self) { tasks in
            tasks.addTask { await timeline.run(log: log) }
            tasks.addTask {
                await sampler.run()
                return []
            }
            for region in topology.regions {
                let workload = RegionWorkload(
                    region: region.name,
                    baseURL: clientURLs[region.name] ?? "",
                    spec: region.workload ?? Topology.Workload(),
                    visibilityTimeoutMs: visibility,
                    client: client,
                    observations: observations,
                    seed: rng.next(),
                    until: until
                )
                tasks.addTask {
                    await workload.run()
                    return []
                }
            }
            var all: [FaultEvent] = []
            for await events in tasks { all += events }
            return all
        }
        for l in links.values {
            l.toPrimary.setPartitioned(false)
            l.toClients.setPartitioned(false)
        }
        log("workload done; verifying")
        let reference: (url: String?, leader: String?)
        if let primaryURL {
            reference = (primaryURL, nil)
        } else {
            let running = nodeURLs.keys.filter { supervisor.isRunning($0) }.sorted()
            let leader = await probe.awaitSettled(among: running, timeoutS: Self.settleTimeoutS)
            reference = (leader.flatMap { nodeURLs[$0] }, leader)
            log("final leader: \(leader ?? "none (the cluster did not settle)")")
        }
        let compared = nodeURLs.filter { $0.key != reference.leader && supervisor.isRunning($0.key) }
        let invariants = await verify(
            observations: observations,
            client: client,
            primaryURL: reference.url,
            replicaURLs: compared,
            visibilityMs: visibility
        )
        let snapshot = observations.snapshot()
        var report = SimulationReport(
            topology: topology.name,
            durationS: options.durationS,
            seed: options.seed,
            invariants: invariants,
            regions: topology.regions.map { .init(name: $0.name, observations: snapshot.regions[$0.name] ?? .init(), durationS: options.durationS) },
            faults: faults
        )
        if topology.isFailover {
            report.failover = failoverReport(
                deployment: deployment,
                finalLeader: reference.leader,
                faults: faults,
                observations: observations,
                invariants: invariants,
                start: start
            )
        }
        return report
    }

    private func verify(
        observations: Observations,
        client: HTTPClient,
        primaryURL: String?,
        replicaURLs: [String: String],
        visibilityMs: Int
    ) async
        -> SimulationReport.Invariants
    {
        let snapshot = observations.snapshot()
        // No leader at the end: nothing answers for the jobs, and no copy can be compared.
        let check = Verification(client: client, primaryURL: primaryURL ?? "http://127.0.0.1:0", replicaURLs: replicaURLs)
        let lost = await check.lostJobs(snapshot.pushed)
        let claims = observations.claims.snapshot()
        let doubles = claims.doubleClaims(visibilityMs: visibilityMs) + claims.claimsAfterAck()
        var compared: [String: Int] = [:]
        var identical = true
        var details = lost.prefix(5).map { "lost: \($0)" } + doubles.prefix(5).map { "double claim: \($0)" }
        let deadline = ContinuousClock.now + .seconds(60)
        for region in replicaURLs.keys.sorted() {
            if let c = await check.compare(region: region, deadline: deadline) {
                compared[region] = c.txid
                if !c.identical {
                    identical = false
                    details.append("replica \(region) differs from the primary at txid \(c.txid)")
                }
            } else {
                identical = false
                details.append("replica \(region) never reached the primary's position")
            }
        }
        let regions = snapshot.regions.values
        for r in regions { details += r.rywViolations.prefix(5).map { "ryw: \($0)" } }
        return .init(
            rywViolationsWithBookmark: regions.reduce(0) { $0 + $1.rywViolations.count },
            lostAcknowledgedJobs: lost.count,
            doubleClaims: doubles.count,
            replicasIdentical: identical,
            acknowledgedJobsChecked: snapshot.pushed.count,
            claimsChecked: claims.claims.count,
            bookmarkedReadsChecked: regions.reduce(0) { $0 + $1.readsWithBookmark },
            comparedAtTxid: compared,
            details: details
        )
    }

    /// Polls a node's health until it answers (200 when `healthy`, any answer otherwise: a
    /// restarted replica reports 503 until it has caught up, which is the point of watching it).
    func waitUntilAnswering(_ name: String, url: String, healthy: Bool, client: HTTPClient, timeoutS: Double = 60) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutS * 1000))
        while ContinuousClock.now < deadline {
            if let r = try? await client.exchange(.GET, url + "/ojs/v1/health", timeout: .seconds(2)), !healthy || r.status == 200 { return }
            guard supervisor.isRunning(name) else { throw SupervisorError.notHealthy(name + " exited") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SupervisorError.notHealthy(name)
    }
}

/// Samples every replica's own view of its lag on a fixed period.
struct LagSampler {
    let client: HTTPClient
    let replicaURLs: [String: String]
    let start: ContinuousClock.Instant
    let until: ContinuousClock.Instant
    let intervalMs: Int
    let observations: Observations

    func run() async {
        var next = ContinuousClock.now
        while next < until {
            let t = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
            await withTaskGroup(of: Void.self) { group in
                for (region, url) in replicaURLs {
                    group.addTask {
                        let r = try? await client.exchange(.GET, url + "/ojs/v1/replication/status", timeout: .milliseconds(Int64(intervalMs)))
                        // A degraded replica answers 503 with the same body: its lag still counts.
                        let lag = (r?.json["lag_ms"] as? NSNumber)?.doubleValue
                        observations.lag(region, LagSample(t: (t * 100).rounded() / 100, lagMs: r?.status == 200 || r?.status == 503 ? lag : nil))
                    }
                }
            }
            next += .milliseconds(Int64(intervalMs))
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }
}

/// A free loopback port, found by binding port 0. Another process could take it before the
/// node binds it; on one machine running only this simulation that does not happen in practice.
public enum PortAllocator {
    public static func free() throws(SupervisorError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { throw .spawnFailed("port allocation", "bind failed") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
