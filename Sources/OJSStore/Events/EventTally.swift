import OJSCore

/// How many events of some types the log gained since a cursor: the console's
/// completed-per-second and failed-per-second come from two of these a second apart, so any
/// number of open consoles cost the node one small read each, whatever the job rate.
public struct EventTally: Sendable {
    /// The newest event's seq when counted; the next tally starts after it.
    public var cursor: Int64
    /// Events per type in `(after, cursor]`; a type with none is absent.
    public var counts: [String: Int64]
    /// True when the span was longer than `EventTally.maxSpan` and only its newest part was
    /// counted (a console that slept for an hour).
    public var truncated: Bool

    /// The most events one tally reads: 100,000 is 10 s at 10,000 events/s, read in about
    /// 20 ms; a longer gap gives a partial count rather than a scan of the whole log.
    public static let maxSpan: Int64 = 100_000
}

extension Store {
    /// Counts the events of `types` written after `after` (an event's seq). With no `after`
    /// it only reads the cursor, to start from.
    public func tallyEvents(after: Int64?, types: [String]) async throws -> EventTally {
        try await read { db in
            let newest = try EventLog.newestSeq(db)
            guard let newest, let after, !types.isEmpty else {
                return EventTally(cursor: newest ?? after ?? 0, counts: [:], truncated: false)
            }
            let from = max(after, newest - EventTally.maxSpan)
            var counts: [String: Int64] = [:]
            let marks = Array(repeating: "?", count: types.count).joined(separator: ", ")
            try db.query(
                "SELECT type, count(*) FROM events WHERE seq > ? AND seq <= ? AND type IN (\(marks)) GROUP BY type",
                [.int(from), .int(newest)] + types.map { .text($0) }
            ) { counts[$0.text(0)] = $0.int(1) }
            return EventTally(cursor: newest, counts: counts, truncated: from > after)
        }
    }
}
