import OJSReplication
import OJSStore
import Synchronization

/// One term of this node following a leader: the tailer that keeps the copy current, and
/// once the copy exists, the read-only store the replica router serves. Its task bootstraps
/// if needed, opens the store, hands the router over (`activate`), then tails until stopped.
final class ReplicaTerm: Sendable {
    let leader: ClusterLeader
    let tailer: ReplicaTailer
    private struct State {
        var active = true
        var store: Store?
        var task: Task<Void, Never>?
    }
    private let state = Mutex(State())

    init(leader: ClusterLeader, tailer: ReplicaTailer) {
        self.leader = leader
        self.tailer = tailer
    }

    func start(_ body: @escaping @Sendable (ReplicaTerm) async -> Void) {
        let task = Task { await body(self) }
        state.withLock { $0.task = task }
    }

    /// Runs `body` (the responder switch) only while the term is still active, under the
    /// same lock `stop` takes, so a stopped term never installs its router after the next one.
    /// Returns false when the term was stopped.
    func activate(store: Store, _ body: () -> Void) -> Bool {
        state.withLock { s in
            guard s.active else { return false }
            s.store = store
            body()
            return true
        }
    }

    /// Whether the copy can serve and be elected from.
    var hasCopy: Bool { tailer.applier.hasCopy }

    /// The copy's position as the tailer last applied it.
    var position: CopyPosition {
        guard hasCopy else { return .empty }
        let s = tailer.status.current
        return CopyPosition(generation: s.generation, txid: s.appliedTxid, checksum: 0)
    }

    func stop() async {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.active = false
            return s.task
        }
        task?.cancel()
        await task?.value
        let store = state.withLock { s -> Store? in
            defer { s.store = nil }
            return s.store
        }
        store?.close()
    }
}
