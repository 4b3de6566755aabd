import Synchronization

/// Publishes a monotonically increasing position (a txid) and lets async callers wait until
/// it reaches a target: replication streams wait for new commits, replica reads wait for a
/// bookmark. Waiting never polls.
public final class PositionBroadcaster: Sendable {
    private struct Waiter {
        let target: Int64
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var value: Int64
        var nextId = 0
        var waiters: [Int: Waiter] = [:]
    }

    private let state: Mutex<State>

    public init(_ initial: Int64 = 0) { state = Mutex(State(value: initial)) }

    public var value: Int64 { state.withLock { $0.value } }

    /// Raises the position (never lowers it) and wakes every waiter it satisfies.
    public func publish(_ value: Int64) {
        let ready = state.withLock { s -> [Waiter] in
            guard value > s.value else { return [] }
            s.value = value
            let done = s.waiters.filter { $0.value.target <= value }
            for key in done.keys { s.waiters[key] = nil }
            return Array(done.values)
        }
        for w in ready { w.continuation.resume(returning: true) }
    }

    /// Sets the position outright (after a re-bootstrap the history starts over).
    public func reset(to value: Int64) {
        state.withLock { $0.value = value }
        publish(value)
    }

    /// True once the position is at least `target`; false if `timeout` passes first or the
    /// task is cancelled.
    public func wait(atLeast target: Int64, timeout: Duration) async -> Bool {
        let id: Int? = state.withLock { s in
            if s.value >= target { return nil }
            s.nextId += 1
            return s.nextId
        }
        guard let id else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let satisfied = state.withLock { s -> Bool in
                    if s.value >= target { return true }
                    s.waiters[id] = Waiter(target: target, continuation: continuation)
                    return false
                }
                if satisfied {
                    continuation.resume(returning: true)
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    self?.expire(id)
                }
            }
        } onCancel: {
            self.expire(id)
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(returning: false)
    }
}
