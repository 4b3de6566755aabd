import Synchronization

/// Whether the writer may commit right now: the fencing check of a failover node
/// (`docs/failover.md`). A node is the primary only while it holds the cluster's leader lease;
/// it must stop committing before that lease can expire, or an old primary paused past its
/// lease (a long GC-free stall, `SIGSTOP`, a VM migration) could commit after another node
/// took over. The writer asks the gate before `BEGIN`, again before `COMMIT`, and once more
/// after it: a batch whose lease ran out while it was committing is neither captured for
/// replicas nor acknowledged, and the writer refuses everything after it.
///
/// Without a check installed (a plain `serve`) the gate is always open and costs one atomic
/// load per batch.
///
///     let gate = CommitGate()
///     gate.install { lease.isValid(nowMs: Monotonic.millis()) }
///     gate.isOpen   // asks the lease
///     gate.close()  // for good: the writer refuses until the store is closed
public final class CommitGate: Sendable {
    public typealias Check = @Sendable () -> Bool

    private let check = Mutex<Check?>(nil)
    private let installed = Atomic<Bool>(false)
    private let shut = Atomic<Bool>(false)

    public init() {}

    /// Installs the check the writer calls around every commit.
    public func install(_ body: @escaping Check) {
        check.withLock { $0 = body }
        installed.store(true, ordering: .releasing)
    }

    /// Refuses every later commit.
    public func close() { shut.store(true, ordering: .releasing) }

    /// Whether a commit may go ahead now.
    public var isOpen: Bool {
        if shut.load(ordering: .acquiring) { return false }
        guard installed.load(ordering: .acquiring) else { return true }
        return check.withLock { $0 }?() ?? true
    }
}
