import Dispatch
import Synchronization

/// A blocking multi-producer queue for the storage threads: async callers push work, a
/// dedicated thread (which may block on SQLite and fsync) takes it. Each item carries its
/// size in bytes (what it will write, roughly) and when it was queued, so a batch can be
/// bounded by bytes as well as by count, and health can see how long the oldest item waits.
final class WorkQueue<Item: Sendable>: Sendable {
    private struct Entry {
        var item: Item
        var bytes: Int
        var queuedAt: UInt64
    }

    private struct State {
        var items: [Entry] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    /// False when the queue was closed and the item was not taken.
    @discardableResult
    func push(_ item: Item, bytes: Int = 0) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        let accepted = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.items.append(Entry(item: item, bytes: max(0, bytes), queuedAt: now))
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Items queued and not yet taken.
    var depth: Int { state.withLock { $0.items.count } }

    /// When the oldest item still queued was pushed (`DispatchTime` uptime nanoseconds).
    var oldestQueuedAt: UInt64? { state.withLock { $0.items.first?.queuedAt } }

    /// Blocks until at least one item is queued, then takes up to `max` items whose sizes add
    /// up to at most `maxBytes` (always at least one item, whatever its size).
    /// Returns nil once the queue is closed and drained.
    func takeBatch(max: Int, maxBytes: Int = .max) -> [Item]? {
        takeEntries(max: max, maxBytes: maxBytes)?.items
    }

    /// As `takeBatch`, with the time the oldest taken item was queued.
    func takeEntries(max: Int, maxBytes: Int) -> (items: [Item], oldestQueuedAt: UInt64)? {
        while true {
            available.wait()
            let batch = state.withLock { s -> (items: [Item], oldestQueuedAt: UInt64)? in
                let pending = s.items.count
                if pending == 0 { return s.closed ? nil : ([], 0) }
                var n = 0
                var bytes = 0
                while n < Swift.min(pending, max) {
                    let next = s.items[n].bytes
                    if n > 0 && bytes + next > maxBytes { break }
                    bytes += next
                    n += 1
                }
                let out = s.items[..<n].map(\.item)
                let oldest = s.items[0].queuedAt
                // Drop the taken items now: a slot left behind keeps its closures alive, and
                // with them a whole request's parsed jobs and results (a 1000-job batch is
                // about 1.5 MB) until the array is next compacted.
                s.items.removeFirst(n)
                return (out, oldest)
            }
            guard let batch else {
                available.signal()  // let other consumers see the close too
                return nil
            }
            if batch.items.isEmpty { continue }
            // One signal was consumed for the whole batch; absorb the others.
            for _ in 1..<batch.items.count { _ = available.wait(timeout: .now()) }
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
///
/// The thread `take`s it, so the handoff (captured by the thread's closure, which lives as
/// long as the thread object) keeps no reference: the connection closes when the thread is
/// done with it, before it signals that it stopped. A failover node reopens the same file in
/// another mode right after `Store.close()` returns, and SQLite refuses to leave WAL mode
/// while another connection is open.
final class ThreadHandoff<Value>: @unchecked Sendable {
    private var value: Value?

    init(value: Value) { self.value = value }

    /// The value, once: the caller owns it from now on.
    func take() -> Value {
        guard let taken = value else { preconditionFailure("a thread handoff is taken once") }
        value = nil
        return taken
    }
}
