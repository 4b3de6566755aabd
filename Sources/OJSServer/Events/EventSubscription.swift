import Foundation

/// One stream's place in the feed: it holds one of the feed's stream slots from `subscribe`
/// until it is released (the stream ended) or dropped (a response that never ran its body),
/// so a slot cannot leak.
final class EventSubscription: Sendable {
    let id: Int
    private let feed: EventFeed

    init(id: Int, feed: EventFeed) {
        self.id = id
        self.feed = feed
    }

    /// Waits for events after `cursor`, a heartbeat at `heartbeatAt`, or the end.
    func next(after cursor: Int64, heartbeatAt: ContinuousClock.Instant) async -> EventFeedDelivery {
        await feed.next(id, after: cursor, heartbeatAt: heartbeatAt)
    }

    /// Ends the stream: a waiting `next` returns `.closed` at once, and so does every later one.
    func end() { feed.end(id) }

    /// Whether the stream should stop (checked between pages of a catch-up read).
    var isEnded: Bool { feed.isEnded(id) }

    deinit { feed.release(id) }
}
