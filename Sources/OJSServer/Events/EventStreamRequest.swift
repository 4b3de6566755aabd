import HTTPTypes
import Hummingbird
import OJSCore
import OJSStore

/// What a `GET /ojs/v1/events/stream` asks for: which events, and where to start.
struct EventStreamRequest: Sendable {
    /// The route's one definition, also read by the replica's middleware.
    static let path = "/ojs/v1/events/stream"
    /// `Last-Event-ID` (`HTTPField.Name.lastEventId`) as a query parameter, for clients that cannot set headers.
    static let lastEventIdQuery = "last_event_id"

    var filter: EventFilter
    /// Resume after this event; nil: from the current end of the log.
    var after: Int64?

    /// Channels, as the official SDKs build them: `job:<id>` (`subscribe_job`), `queue:<name>`
    /// (`subscribe_queue`), or `all`. Python sends the channel as is, JS percent-encoded; the
    /// query decoding undoes the latter, so both arrive the same. `types` narrows either, with
    /// the `job.*` prefixes `GET /ojs/v1/events` takes.
    ///
    /// A malformed resume id is refused (400) rather than ignored: every id this server sends
    /// is `evt_<n>`, so another one is a client bug, and streaming "from now" instead would
    /// silently drop every event the client missed while it believes it resumed.
    static func parse(_ request: Request) throws -> EventStreamRequest {
        var filter = EventFilter(types: request.queryList("types"))
        switch request.queryString("channel") {
        case nil, "all": break
        case let channel?:
            if channel.hasPrefix("job:"), channel.count > 4 {
                filter.subject = String(channel.dropFirst(4))
            } else if channel.hasPrefix("queue:"), channel.count > 6 {
                filter.queue = String(channel.dropFirst(6))
            } else {
                throw OJSError.invalid("Query parameter 'channel' must be 'job:<id>', 'queue:<name>' or 'all'.", field: "channel")
            }
        }
        var after: Int64?
        if let text = request.headers[.lastEventId] ?? request.queryString(lastEventIdQuery), !text.isEmpty {
            guard let seq = EventLog.seq(id: text) else {
                throw OJSError.invalid(
                    "Last-Event-ID '\(text.prefix(64))' is not an event id of this server (evt_<n>); reconnect without it to stream from now.",
                    field: "Last-Event-ID"
                )
            }
            after = seq
        }
        return EventStreamRequest(filter: filter, after: after)
    }
}
