import Hummingbird
import NIOCore
import OJSStore

/// Writes one event stream: the preamble, then whatever the subscription delivers, until it
/// ends. Its cursor only moves forward, through events read from the ring or, when behind it,
/// from the log, so a resumed stream has no gap and no duplicate.
struct EventStreamSession {
    let store: Store
    let subscription: EventSubscription
    let filter: EventFilter
    let heartbeat: Duration
    let retryMs: Int
    let readPage: Int

    /// Streams events after `start` into `writer` until the subscription closes; throws when
    /// the client has gone (a write fails).
    func run(from start: Int64, into writer: inout some ResponseBodyWriter) async throws {
        // At once, so the client sees the headers and knows the stream is open.
        try await writer.write(ByteBuffer(string: "retry: \(retryMs)\n: connected\n\n"))
        var cursor = start
        var lastWrite = ContinuousClock.now
        while true {
            switch await subscription.next(after: cursor, heartbeatAt: lastWrite + heartbeat) {
            case .closed:
                return
            case .heartbeat:
                try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                lastWrite = .now
            case .events(let events, let through):
                var text = ""
                for event in events where filter.matches(event.record) { text += event.frame }
                cursor = through
                if !text.isEmpty {
                    try await writer.write(ByteBuffer(string: text))
                    lastWrite = .now
                }
            case .behind(let through):
                // Page through the log up to a position the feed already read (so committed).
                while cursor < through, !subscription.isEnded {
                    let page = try await store.eventRecords(after: cursor, through: through, matching: filter, limit: readPage)
                    if !page.isEmpty {
                        try await writer.write(ByteBuffer(string: page.map(EventFrame.render).joined()))
                        lastWrite = .now
                    }
                    cursor = page.count < readPage ? through : page[page.count - 1].seq
                }
            }
        }
    }
}
