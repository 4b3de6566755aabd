/// What `ojs-edge status` shows and decides, computed from the primary's
/// `/ojs/v1/replication/status` and queue stats. Pure, so the table and the exit rule are
/// tested without a server.
public struct StatusReport: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        public var region: String
        public var state: String
        public var lagTransactions: Int64
        public var lagMs: Int64
        public var lastContact: String

        public init(region: String, state: String, lagTransactions: Int64, lagMs: Int64, lastContact: String) {
            self.region = region
            self.state = state
            self.lagTransactions = lagTransactions
            self.lagMs = lagMs
            self.lastContact = lastContact
        }
    }

    public struct Queue: Sendable, Equatable {
        public var name: String
        public var depth: Int64
        public var available: Int64
        public var oldestAgeMs: Int64?
        public var paused: Bool

        public init(name: String, depth: Int64, available: Int64, oldestAgeMs: Int64?, paused: Bool) {
            self.name = name
            self.depth = depth
            self.available = available
            self.oldestAgeMs = oldestAgeMs
            self.paused = paused
        }
    }

    public var primaryTxid: Int64
    public var replicas: [Replica]
    public var queues: [Queue]
    public var deadLetters: Int64
    /// Present when the node is part of a failover cluster (`ojs-edge node`).
    public var cluster: ClusterSummary?

    public init(primaryTxid: Int64, replicas: [Replica], queues: [Queue], deadLetters: Int64) {
        self.primaryTxid = primaryTxid
        self.replicas = replicas
        self.queues = queues
        self.deadLetters = deadLetters
    }

    /// Reads the primary's replication status body.
    public static func replicas(fromStatus status: JSONValue) -> [Replica] {
        (status["replicas"]?.arrayValue ?? []).map { r in
            Replica(
                region: r["region"]?.stringValue ?? "?",
                state: r["state"]?.stringValue ?? "?",
                lagTransactions: r["lag_transactions"]?.intValue ?? 0,
                lagMs: r["lag_ms"]?.intValue ?? 0,
                lastContact: r["last_contact"]?.stringValue ?? "-"
            )
        }
    }

    /// Problems that make the command exit non-zero: a disconnected replica, or one past
    /// `maxLagMs` when a bound is given.
    public func alerts(maxLagMs: Int64?) -> [String] {
        var out: [String] = cluster?.alerts() ?? []
        for r in replicas {
            if r.state == "disconnected" { out.append("replica \(r.region) is disconnected") }
            if let maxLagMs, r.lagMs > maxLagMs { out.append("replica \(r.region) lags \(r.lagMs) ms (limit \(maxLagMs) ms)") }
        }
        return out
    }

    /// The terminal table.
    public func render() -> String {
        var lines: [String] = cluster?.render() ?? []
        lines.append("primary txid \(primaryTxid)")
        lines.append("")
        lines.append(Self.row(["REGION", "STATE", "LAG TXNS", "LAG MS", "LAST SEEN"], widths: [14, 13, 10, 10, 26]))
        if replicas.isEmpty { lines.append("(no replicas)") }
        for r in replicas {
            lines.append(Self.row([r.region, r.state, String(r.lagTransactions), String(r.lagMs), r.lastContact], widths: [14, 13, 10, 10, 26]))
        }
        lines.append("")
        lines.append(Self.row(["QUEUE", "DEPTH", "AVAILABLE", "OLDEST", "STATUS"], widths: [24, 10, 10, 10, 8]))
        for q in queues {
            let oldest = q.oldestAgeMs.map { Self.age($0) } ?? "-"
            lines.append(
                Self.row([q.name, String(q.depth), String(q.available), oldest, q.paused ? "paused" : "active"], widths: [24, 10, 10, 10, 8])
            )
        }
        lines.append("")
        lines.append("dead letters: \(deadLetters)")
        return lines.joined(separator: "\n")
    }

    static func row(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { cell, width in
            cell.count >= width ? String(cell.prefix(width - 1)) + " " : cell + String(repeating: " ", count: width - cell.count)
        }
        .joined().trimmingTrailingSpaces()
    }

    static func age(_ ms: Int64) -> String {
        if ms < 1000 { return "\(ms)ms" }
        if ms < 120_000 { return "\(ms / 1000)s" }
        if ms < 7_200_000 { return "\(ms / 60_000)m" }
        return "\(ms / 3_600_000)h"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
