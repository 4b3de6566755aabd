import Synchronization

/// What a replica knows about itself and the primary, for headers, health and lag metrics.
public struct ReplicaStatus: Sendable, Equatable {
    public enum State: String, Sendable { case bootstrapping, catchingUp = "catching_up", streaming, disconnected }

    public var state: State = .bootstrapping
    public var generation: String?
    public var appliedTxid: UInt64 = 0
    /// The newest txid the primary has told us about (records and heartbeats).
    public var primaryTxid: UInt64 = 0
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

    /// Milliseconds since the commit of the oldest transaction not applied here; 0 when caught
    /// up; while disconnected, the time since the primary was last heard from.
    public func lagMs(now: Int64) -> Int64 {
        if state == .disconnected || state == .bootstrapping { return lastContact.map { max(0, now - $0) } ?? 0 }
        if let oldest = oldestPendingCommit { return max(0, now - oldest) }
        return 0
    }

    public var lagTransactions: UInt64 { primaryTxid > appliedTxid ? primaryTxid - appliedTxid : 0 }
}

/// Shared, lock-protected status.
public final class ReplicaStatusBox: Sendable {
    private let state = Mutex(ReplicaStatus())
    public init() {}
    public var current: ReplicaStatus { state.withLock { $0 } }
    public func update(_ body: (inout ReplicaStatus) -> Void) { state.withLock { body(&$0) } }
}
