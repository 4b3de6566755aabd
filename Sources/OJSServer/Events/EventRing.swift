import OJSStore

/// The newest events the feed read, in a fixed number of slots. It holds every event with
/// `floor < seq <= head`: the feed appends each event it reads in order, and when the ring
/// is full the oldest slot is reused and `floor` moves up to that event. A subscriber whose
/// cursor is below `floor` has fallen behind and reads the log itself.
struct EventRing: Sendable {
    let capacity: Int
    private var slots: [FeedEvent] = []
    /// The slot of the oldest event once the ring is full.
    private var start = 0
    private(set) var floor: Int64
    private(set) var head: Int64

    /// An empty ring at position `head` (the log's newest event when the feed started).
    init(capacity: Int, head: Int64) {
        self.capacity = max(1, capacity)
        self.floor = head
        self.head = head
        slots.reserveCapacity(self.capacity)
    }

    mutating func append(_ event: FeedEvent) {
        if slots.count < capacity {
            slots.append(event)
        } else {
            floor = slots[start].record.seq
            slots[start] = event
            start = (start + 1) % capacity
        }
        head = event.record.seq
    }

    /// Up to `limit` events after `seq`, oldest first; nil when events after `seq` have already
    /// left the ring (`seq < floor`).
    func events(after seq: Int64, limit: Int) -> [FeedEvent]? {
        guard seq >= floor else { return nil }
        // Binary search for the first event past `seq`, over the ring's logical order.
        var low = 0
        var high = slots.count
        while low < high {
            let middle = (low + high) / 2
            if self[middle].record.seq <= seq { low = middle + 1 } else { high = middle }
        }
        let end = min(slots.count, low + limit)
        return (low..<end).map { self[$0] }
    }

    private subscript(logical: Int) -> FeedEvent { slots[(start + logical) % slots.count] }
}
