import Foundation

/// What a failover topology's clients saw of its leader changes: who led, how long writes
/// had no leader after each kill, and whether an acknowledged write went missing.
public struct FailoverReport: Codable, Sendable, Equatable {
    public var syncReplicas: Int
    public var leaseTtlMs: Int?
    /// The node that led when the workload started.
    public var initialLeader: String?
    /// The node that led at the end, which the end checks were run against.
    public var finalLeader: String?
    /// Pushes answered 2xx that the final leader does not have (0 expected with sync replicas).
    public var acknowledgedWritesLost: Int
    public var acknowledgedWritesChecked: Int
    /// Reads without a bookmark that missed the region's own earlier write, every region together.
    public var staleReads: Int
    public var readsWithoutBookmark: Int
    public var leaderKills: [LeaderKill]

    public struct LeaderKill: Codable, Sendable, Equatable {
        /// The node that led when the fault played, and was killed.
        public var killed: String
        /// Seconds since the workload started.
        public var atS: Double
        /// The first other node that answered a write as the primary after the kill; nil when none did before the end.
        public var newLeader: String?
        /// From the kill to the first write answered 2xx by `newLeader`, as a client measured it.
        public var failoverTimeMs: Double?

        public init(killed: String, atS: Double, newLeader: String?, failoverTimeMs: Double?) {
            self.killed = killed
            self.atS = atS
            self.newLeader = newLeader
            self.failoverTimeMs = failoverTimeMs
        }

        /// The kill's outcome from the writes' answers: `(t, servedBy)` with t in seconds since
        /// the workload started and servedBy the answer's `OJS-Served-By`.
        public static func measure(killed: String, atS: Double, answers: [(t: Double, servedBy: String)]) -> LeaderKill {
            let prefix = "primary/"
            let first =
                answers
                .filter { $0.t >= atS && $0.servedBy.hasPrefix(prefix) && $0.servedBy != prefix + killed }
                .min { $0.t < $1.t }
            return LeaderKill(
                killed: killed,
                atS: atS,
                newLeader: first.map { String($0.servedBy.dropFirst(prefix.count)) },
                failoverTimeMs: first.map { (($0.t - atS) * 1000).rounded() }
            )
        }
    }

    /// True when every leader kill was followed by writes answered by another leader.
    public var failedOver: Bool { !leaderKills.isEmpty && leaderKills.allSatisfy { $0.newLeader != nil } }

    public init(
        syncReplicas: Int,
        leaseTtlMs: Int?,
        initialLeader: String?,
        finalLeader: String?,
        acknowledgedWritesLost: Int,
        acknowledgedWritesChecked: Int,
        staleReads: Int,
        readsWithoutBookmark: Int,
        leaderKills: [LeaderKill]
    ) {
        self.syncReplicas = syncReplicas
        self.leaseTtlMs = leaseTtlMs
        self.initialLeader = initialLeader
        self.finalLeader = finalLeader
        self.acknowledgedWritesLost = acknowledgedWritesLost
        self.acknowledgedWritesChecked = acknowledgedWritesChecked
        self.staleReads = staleReads
        self.readsWithoutBookmark = readsWithoutBookmark
        self.leaderKills = leaderKills
    }

    /// The report's failover section as lines for the terminal.
    func lines() -> [String] {
        var out = ["failover (sync replicas \(syncReplicas), lease \(leaseTtlMs.map { "\($0) ms" } ?? "default")):"]
        out.append("  leader at the start: \(initialLeader ?? "none")")
        for k in leaderKills {
            let outcome =
                if let newLeader = k.newLeader, let ms = k.failoverTimeMs {
                    "\(newLeader) answered the first write \(SimulationReport.format(ms)) ms later (failover time)"
                } else {
                    "NO write was answered by another leader before the end"
                }
            out.append("  killed leader \(k.killed) at \(SimulationReport.format(k.atS)) s: \(outcome)")
        }
        out.append("  leader at the end: \(finalLeader ?? "none")")
        out.append("  acknowledged writes lost: \(acknowledgedWritesLost) (of \(acknowledgedWritesChecked))")
        out.append("  stale reads without bookmark: \(staleReads) (of \(readsWithoutBookmark))")
        return out
    }
}
