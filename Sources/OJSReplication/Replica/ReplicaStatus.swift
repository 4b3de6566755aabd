import Synchronization

/// What a replica knows about itself and the primary, for headers, health and lag metrics.
public struct ReplicaStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        case bootstrapping
        case catchingUp = "catching_up"
        case streaming, disconnected
        /// The primary refuses this replica's requests (401/403): the copy is kept, the replica
        /// backs off and retries.
        case refused
    }

    public var state: State = .bootstrapping
    public var generation: String?
    public var appliedTxid: TxID = 0
    /// The newest txid the primary has told us about (records and heartbeats).
    public var primaryTxid: TxID = 0
    /// Commit time (primary clock) of the oldest record received but not yet applied.
    public var oldestPendingCommit: Int64?
    /// Commit time of the last applied transaction.
    public var appliedCommitTime: Int64?
    /// When we last heard from the primary (local clock, ms).
    public var lastContact: Int64?
    public var bootstraps = 0
    public var recordsApplied = 0
    public var bytesReceived = 0
    public var lastError: String?
    /// When the primary ended the stream itself (a graceful shutdown), as opposed to the
    /// connection failing; cleared when a stream opens again.
    public var closedByPrimaryAt: Int64?
    /// Why the replica is not following the primary right now, while it keeps its copy and
    /// retries with backoff; nil while a stream is open.
    public var fault: ReplicaFault?
    /// Failed attempts by fault kind since start, for metrics.
    public var faultCounts: [ReplicaFault.Kind: Int] = [:]
    /// Streams the primary accepted (200) since start.
    public var connections = 0
    /// Bytes of received records waiting to be applied, and whether reading the stream is
    /// paused because that buffer is full.
    public var pendingBytes = 0
    public var backpressured = false
    /// Whether the open stream asked for synchronous acknowledgements (the primary runs with
    /// `--sync-replicas` ≥ 1): records are then applied as they arrive and acknowledged after
    /// every apply.
    public var syncAcks = false
    /// Acknowledgements the primary accepted since start.
    public var acksSent = 0

    /// Why the replica cannot serve as a healthy copy right now, or nil when it can (the lag
    /// threshold is the caller's: it depends on configuration).
    public func unhealthyReason(diverged: Bool) -> String? {
        if diverged { return "diverged: the local copy belongs to another history; bootstrapping again" }
        switch state {
        case .bootstrapping: return "bootstrapping" + (fault.map { ": \($0.kind.rawValue): \($0.detail)" } ?? "")
        case .refused: return "refused by the primary: " + (fault?.detail ?? "unauthorized")
        case .disconnected: return "disconnected from the primary" + (fault.map { ": \($0.kind.rawValue): \($0.detail)" } ?? "")
        case .catchingUp, .streaming: return nil
        }
    }

    /// Milliseconds since the commit of the oldest transaction not applied here; 0 when caught
    /// up; while disconnected, the time since the primary was last heard from.
    public func lagMs(now: Int64) -> Int64 {
        if state == .disconnected || state == .bootstrapping || state == .refused { return lastContact.map { max(0, now - $0) } ?? 0 }
        if let oldest = oldestPendingCommit { return max(0, now - oldest) }
        return 0
    }

    public var lagTransactions: TxID { primaryTxid > appliedTxid ? primaryTxid - appliedTxid : 0 }
}

/// Shared, lock-protected status, plus the recent commit-to-apply delays.
public final class ReplicaStatusBox: Sendable {
    private let state = Mutex(ReplicaStatus())
    private let lags = Mutex(LagSamples())
    public init() {}
    public var current: ReplicaStatus { state.withLock { $0 } }
    public func update(_ body: (inout ReplicaStatus) -> Void) { state.withLock { body(&$0) } }

    /// Records how long each applied transaction took from its commit on the primary to
    /// being visible here (milliseconds, primary and replica clocks assumed in sync).
    public func recordApplyLags(_ values: [Int64]) { lags.withLock { $0.add(values) } }

    /// Percentiles of the last samples (up to 10,000 transactions).
    public var applyLag: LagSamples.Summary { lags.withLock { $0.summary } }

    private let ackTimes = Mutex(LagSamples())
    /// Records one acknowledgement's round trip to the primary, in microseconds.
    public func recordAckRoundTrip(micros: Int64) { ackTimes.withLock { $0.add([micros]) } }
    /// Percentiles of the last acknowledgement round trips (microseconds).
    public var ackRoundTrip: LagSamples.Summary { ackTimes.withLock { $0.summary } }
}

/// A ring of recent lag samples.
public struct LagSamples: Sendable {
    public struct Summary: Sendable, Equatable {
        public var count: Int
        public var p50: Int64
        public var p99: Int64
        public var max: Int64
    }

    static let capacity = 10_000
    private var values: [Int64] = []
    private var next = 0

    mutating func add(_ new: [Int64]) {
        for v in new {
            if values.count < Self.capacity {
                values.append(v)
            } else {
                values[next] = v
                next = (next + 1) % Self.capacity
            }
        }
    }

    public var summary: Summary {
        guard !values.isEmpty else { return Summary(count: 0, p50: 0, p99: 0, max: 0) }
        let sorted = values.sorted()
        func at(_ q: Double) -> Int64 { sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))] }
        return Summary(count: sorted.count, p50: at(0.5), p99: at(0.99), max: sorted[sorted.count - 1])
    }
}
