import HTTPTypes
import Hummingbird
import OJSCore
import OJSStore
import ServiceLifecycle

/// `GET /ojs/v1/events/stream`: the event log as Server-Sent Events (`docs/events.md`), served
/// by primaries and replicas alike from their own copy, through the node's `EventFeed`.
extension OJSAPI {
    func addEventStreamRoute(_ router: Router<Context>) {
        guard let events else { return }
        router.get(RouterPath(EventStreamRequest.path)) { request, _ in
            let asked = try EventStreamRequest.parse(request)
            guard let subscription = events.subscribe() else {
                throw OJSError(
                    .unavailable,
                    "This node serves its maximum of \(events.settings.maxStreams) event streams; retry shortly or on another node.",
                    retryAfterSeconds: Self.eventStreamRetryAfterSeconds
                )
            }
            // Without a resume point the stream starts at the log's end as of now.
            let start: Int64
            if let after = asked.after { start = after } else { start = try await store.lastEventSeq() }
            let session = EventStreamSession(
                store: store,
                subscription: subscription,
                filter: asked.filter,
                heartbeat: .milliseconds(events.settings.heartbeatMs),
                retryMs: config.eventStreamRetryMs,
                readPage: events.settings.readPage
            )
            var headers = HTTPFields()
            headers[.contentType] = MediaTypes.eventStream
            headers[.cacheControl] = "no-cache"
            // nginx buffers proxied responses unless told not to; a buffered stream is a dead one.
            headers[.accelBuffering] = "no"
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    // Graceful shutdown ends the stream at once, so SIGTERM never waits for it.
                    try await withGracefulShutdownHandler {
                        try await session.run(from: start, into: &writer)
                    } onGracefulShutdown: {
                        subscription.end()
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    /// A refused stream retries after a second: streams end all the time, and a slot is free
    /// as soon as one does.
    static let eventStreamRetryAfterSeconds = 1
}
