import Foundation

/// An edge topology to simulate: the regions around one primary, the network between them,
/// each region's client workload, and a timeline of faults. Parsed from JSON (snake_case keys,
/// every field but `name` and `regions` optional); see `docs/edge-simulation.md`.
public struct Topology: Codable, Sendable, Equatable {
    public var name: String
    /// How long the workload runs when `--duration` is not given.
    public var durationS: Double?
    public var regions: [Region]
    public var faults: [Fault]?
    /// Visibility timeout the simulated workers ask for; a claim not acked by then comes back.
    public var visibilityTimeoutMs: Int?
    /// How long a replica waits for its copy to reach a bookmark before forwarding the read.
    public var consistencyWaitMs: Int?
    /// What runs in the regions: a fixed primary and `replica`s (the default), or failover
    /// `node`s around an etcd, one per region, that elect their leader.
    public var mode: Mode?
    /// Failover mode: `--sync-replicas` of every node (default 0, asynchronous).
    public var syncReplicas: Int?
    /// Failover mode: `--lease-ttl-ms` of every node (default: the node's own, 3000).
    public var leaseTtlMs: Int?

    public enum Mode: String, Codable, Sendable {
        case primaryReplicas = "primary_replicas"
        case failover
    }

    /// etcd grants leases in whole seconds, at least 2 (the node refuses less).
    public static let minimumLeaseTTLms = 2000

    public var isFailover: Bool { mode == .failover }

    public struct Region: Codable, Sendable, Equatable {
        public var name: String
        /// The network between this region's replica and the primary. In failover mode, the
        /// network every other node crosses to reach this region's node.
        public var primaryLink: Link
        /// The network between this region's clients and its replica.
        public var clientLink: Link?
        public var workload: Workload?
    }

    /// One network path; every figure applies to each direction separately.
    public struct Link: Codable, Sendable, Equatable {
        public var latencyMs: Double
        /// Extra delay drawn uniformly from 0...jitter for every chunk (order is kept).
        public var jitterMs: Double?
        /// Probability that a chunk is held back by `spikeMs` more (head-of-line blocking after it).
        public var spikeProbability: Double?
        public var spikeMs: Double?
        /// Bandwidth cap in kilobits per second; none when absent.
        public var bandwidthKbps: Double?
        /// Probability per second that each open connection is reset.
        public var dropPerSecond: Double?

        public init(
            latencyMs: Double,
            jitterMs: Double? = nil,
            spikeProbability: Double? = nil,
            spikeMs: Double? = nil,
            bandwidthKbps: Double? = nil,
            dropPerSecond: Double? = nil
        ) {
            self.latencyMs = latencyMs
            self.jitterMs = jitterMs
            self.spikeProbability = spikeProbability
            self.spikeMs = spikeMs
            self.bandwidthKbps = bandwidthKbps
            self.dropPerSecond = dropPerSecond
        }
    }

    /// Rates are per second for the whole region.
    public struct Workload: Codable, Sendable, Equatable {
        public var pushesPerS: Double?
        public var batchesPerS: Double?
        public var batchSize: Int?
        public var workers: Int?
        public var fetchesPerS: Double?
        public var fetchCount: Int?
        public var readsPerS: Double?
        /// Share of reads that send the bookmark of the write they check (0...1).
        public var bookmarkedReadShare: Double?
    }

    public struct Fault: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            case partition
            case killReplica = "kill_replica"
            case killPrimary = "kill_primary"
            /// Failover mode: whichever node leads when the fault plays.
            case killLeader = "kill_leader"
        }
        public enum Side: String, Codable, Sendable { case primary, clients, both }
        /// Seconds after the workload starts.
        public var atS: Double
        public var kind: Kind
        /// The region, for `partition` and `kill_replica`.
        public var region: String?
        /// Which of the region's links a partition cuts (default: the one to the primary).
        public var link: Side?
        /// Partition length, or how long a killed process stays down before it is restarted.
        public var durationS: Double
        /// For kills: false leaves the process down to the end of the run (default true).
        public var restart: Bool?
    }

    public static func decode(_ data: Data) throws(TopologyError) -> Topology {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let topology: Topology
        do {
            topology = try decoder.decode(Topology.self, from: data)
        } catch {
            throw .malformed(String(describing: error))
        }
        try topology.validate()
        return topology
    }

    public func validate() throws(TopologyError) {
        guard !regions.isEmpty else { throw .invalid("a topology needs at least one region") }
        var seen = Set<String>()
        for r in regions {
            guard !r.name.isEmpty, r.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw .invalid("region name '\(r.name)' must be letters, digits, '-' or '_'")
            }
            guard seen.insert(r.name).inserted else { throw .invalid("region '\(r.name)' appears twice") }
            for link in [r.primaryLink] + (r.clientLink.map { [$0] } ?? []) {
                guard link.latencyMs >= 0, (link.jitterMs ?? 0) >= 0, (link.spikeMs ?? 0) >= 0,
                    (0...1).contains(link.spikeProbability ?? 0), (0...1).contains(link.dropPerSecond ?? 0),
                    (link.bandwidthKbps ?? 1) > 0
                else { throw .invalid("region '\(r.name)': link figures must be non-negative and probabilities within 0...1") }
            }
        }
        if isFailover {
            guard regions.count >= 2 else { throw .invalid("failover mode needs at least two regions") }
            guard (0..<regions.count).contains(syncReplicas ?? 0) else {
                throw .invalid("sync_replicas must be between 0 and \(regions.count - 1) (the other regions' nodes)")
            }
            guard (leaseTtlMs ?? Self.minimumLeaseTTLms) >= Self.minimumLeaseTTLms else {
                throw .invalid("lease_ttl_ms must be at least \(Self.minimumLeaseTTLms) (etcd's minimum lease)")
            }
        } else if syncReplicas != nil || leaseTtlMs != nil {
            throw .invalid("sync_replicas and lease_ttl_ms apply only to \"mode\": \"failover\"")
        }
        for f in faults ?? [] {
            guard f.atS >= 0, f.durationS >= 0 else { throw .invalid("fault times must be non-negative") }
            if f.kind == .killPrimary, isFailover {
                throw .invalid("kill_primary at \(f.atS)s: a failover topology has no fixed primary; use kill_leader")
            }
            if f.kind == .killLeader, !isFailover {
                throw .invalid("kill_leader at \(f.atS)s needs \"mode\": \"failover\"")
            }
            if f.kind != .killPrimary, f.kind != .killLeader {
                guard let region = f.region, seen.contains(region) else {
                    throw .invalid("\(f.kind.rawValue) at \(f.atS)s names no known region")
                }
            }
        }
    }

    /// The same timeline with every fault time and length multiplied by `factor`, so a long
    /// scenario can run in a short test.
    public func scaled(by factor: Double) -> Topology {
        var t = self
        t.faults = faults?.map { f in
            var f = f
            f.atS *= factor
            f.durationS *= factor
            return f
        }
        return t
    }
}

public enum TopologyError: Error, CustomStringConvertible {
    case malformed(String)
    case invalid(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .malformed(let m): "the topology is not valid JSON of the expected shape: \(m)"
        case .invalid(let m): "invalid topology: \(m)"
        case .notFound(let m): "no topology file at \(m)"
        }
    }
}
