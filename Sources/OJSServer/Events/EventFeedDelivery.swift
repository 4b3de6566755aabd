/// What a subscriber's `next` hands back.
enum EventFeedDelivery: Sendable {
    /// The events after the cursor, unfiltered and oldest first; `through` is the newest one's
    /// sequence number, the cursor's next value.
    case events([FeedEvent], through: Int64)
    /// Events after the cursor have left the ring: read the log up to `through` (the feed's
    /// head, so committed), then ask again.
    case behind(through: Int64)
    /// Nothing arrived before the heartbeat deadline.
    case heartbeat
    /// The feed or this subscription ended (shutdown, role change): end the stream.
    case closed
}
