import OJSStore

/// An event held by the live feed: the row (for filtering) and its SSE frame, rendered once
/// when the feed reads it, so a thousand subscribers do not render it a thousand times.
struct FeedEvent: Sendable {
    let record: EventRecord
    let frame: String

    init(_ record: EventRecord) {
        self.record = record
        self.frame = EventFrame.render(record)
    }
}
