import Foundation

/// The outcome of one simulation run, written as JSON (snake_case keys) and as a table.
public struct SimulationReport: Codable, Sendable {
    public var topology: String
    public var durationS: Double
    public var seed: UInt64
    public var invariants: Invariants
    public var regions: [RegionReport]
    public var faults: [FaultEvent]
    /// Failover topologies only: leaders, failover times, acknowledged writes lost.
    public var failover: FailoverReport? = nil

    /// The run passes when every invariant held and every leader kill was followed by writes
    /// answered by another leader (a cluster that never failed over has not been tested).
    public var holds: Bool { invariants.hold && (failover?.leaderKills.allSatisfy { $0.newLeader != nil } ?? true) }

    public struct Invariants: Codable, Sendable, Equatable {
        public var rywViolationsWithBookmark: Int
        public var lostAcknowledgedJobs: Int
        public var doubleClaims: Int
        public var replicasIdentical: Bool
        /// What was checked, so a 0 is not mistaken for "nothing happened".
        public var acknowledgedJobsChecked: Int
        public var claimsChecked: Int
        public var bookmarkedReadsChecked: Int
        /// The common position each replica was compared with the primary at, by region.
        public var comparedAtTxid: [String: Int]
        /// The first few offending cases, for debugging.
        public var details: [String]

        public var hold: Bool { rywViolationsWithBookmark == 0 && lostAcknowledgedJobs == 0 && doubleClaims == 0 && replicasIdentical }
    }

    public struct RegionReport: Codable, Sendable {
        public var name: String
        public var replicationLagMs: Percentiles
        public var reads: Reads
        public var latencyMs: [String: Percentiles]
        public var errors: [String: Int]
        public var throughputPerS: [String: Double]
        public var lagSeries: [LagSample]
    }

    public struct Reads: Codable, Sendable, Equatable {
        public var servedLocally: Int
        public var forwarded: Int
        public var withoutBookmark: Int
        public var staleWithoutBookmark: Int
        public var withBookmark: Int
        public var rywViolationsWithBookmark: Int
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> SimulationReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(SimulationReport.self, from: data)
    }
}

/// A fault as it actually happened, in seconds since the workload started.
public struct FaultEvent: Codable, Sendable, Equatable {
    public var kind: String
    public var target: String
    public var startS: Double
    public var endS: Double

    public init(kind: String, target: String, startS: Double, endS: Double) {
        self.kind = kind
        self.target = target
        self.startS = startS
        self.endS = endS
    }
}

extension SimulationReport.RegionReport {
    /// Figures of one region from its raw observations over `durationS` seconds.
    public init(name: String, observations o: RegionObservations, durationS: Double) {
        self.name = name
        replicationLagMs = Percentiles(o.lag.compactMap(\.lagMs))
        reads = .init(
            servedLocally: o.readsLocal,
            forwarded: o.readsForwarded,
            withoutBookmark: o.readsWithoutBookmark,
            staleWithoutBookmark: o.staleReadsWithoutBookmark,
            withBookmark: o.readsWithBookmark,
            rywViolationsWithBookmark: o.rywViolations.count
        )
        latencyMs = o.latenciesMs.mapValues { Percentiles($0) }
        errors = o.errors
        throughputPerS = o.succeeded.mapValues { durationS > 0 ? (Double($0) / durationS * 10).rounded() / 10 : 0 }
        lagSeries = o.lag
    }
}
