import Dispatch
import Synchronization

/// A blocking multi-producer queue for the storage threads: async callers push work, a
/// dedicated thread (which may block on SQLite and fsync) takes it.
final class WorkQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    /// False when the queue was closed and the item was not taken.
    @discardableResult
    func push(_ item: Item) -> Bool {
        let accepted = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.items.append(item)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Blocks until at least one item is queued, then takes up to `max` items.
    /// Returns nil once the queue is closed and drained.
    func takeBatch(max: Int) -> [Item]? {
        while true {
            available.wait()
            let batch = state.withLock { s -> [Item]? in
                let pending = s.items.count
                if pending == 0 { return s.closed ? nil : [] }
                let n = Swift.min(pending, max)
                let out = Array(s.items[..<n])
                // Drop the taken items now: a slot left behind keeps its closures alive, and
                // with them a whole request's parsed jobs and results (a 1000-job batch is
                // about 1.5 MB) until the array is next compacted.
                s.items.removeFirst(n)
                return out
            }
            guard let batch else {
                available.signal()  // let other consumers see the close too
                return nil
            }
            if batch.isEmpty { continue }
            // One signal was consumed for the whole batch; absorb the others.
            for _ in 1..<batch.count { _ = available.wait(timeout: .now()) }
            return batch
        }
    }

    /// Stops accepting work; consumers drain what is queued, then get nil.
    func close() {
        state.withLock { $0.closed = true }
        available.signal()
    }
}

/// Hands a thread-confined value (a connection, the write context) to the one thread that
/// will own it from then on. Nothing else touches it afterwards.
struct ThreadHandoff<Value>: @unchecked Sendable {
    let value: Value
}
