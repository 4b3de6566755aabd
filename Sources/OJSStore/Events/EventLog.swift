import OJSCore

/// The event log behind `GET /ojs/v1/events`: CloudEvents-shaped records written in the same
/// transaction as the change they describe, so the log never disagrees with the jobs.
public enum EventLog {
    /// A job event also stores `state`, the job's state after it (`job.enqueued` already names
    /// it): a live stream reports it as `to` without reading the job, and `job.failed` cannot
    /// be told apart otherwise (it leaves a job `available`, `retryable` or `discarded`). It
    /// costs about 20 bytes in a row that is already written, and no extra statement.
    static func record(_ ctx: WriteContext, type: String, job: JobSnapshot, data: [(String, JSONValue)]) throws {
        var stored = data
        if !data.contains(where: { $0.0 == "state" }) { stored.append(("state", .string(job.state.rawValue))) }
        try record(ctx, type: type, subject: job.id, queue: job.queue, jobType: job.type, data: stored)
        ctx.reportLifecycle(type, job: job, data: data)
    }

    static func record(
        _ ctx: WriteContext,
        type: String,
        subject: String?,
        queue: String?,
        jobType: String?,
        data: [(String, JSONValue)]
    ) throws {
        try ctx.db.run(
            "INSERT INTO events (type, subject, queue, job_type, time, data) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .text(type), SQLValue(subject), SQLValue(queue), SQLValue(jobType), .int(ctx.now),
                .text(JSONValue.object(JSONObject(data)).jsonText),
            ]
        )
    }

    /// Deletes up to `limit` of the oldest events written before `cutoff`, and returns how many.
    /// Walks from the log's oldest end by `seq` (there is no index on `time`) and stops at the
    /// first newer event, so a pass reads at most `limit` rows however long the log is; events
    /// are written in time order, so that is the same set. The newest event always stays: its
    /// `seq` is the high-water mark the next one counts on.
    static func purge(before cutoff: Int64, limit: Int, _ ctx: WriteContext) throws -> Int {
        var through: Int64?
        var stopped = false
        try ctx.db.query(
            "SELECT seq, time FROM events WHERE seq < (SELECT max(seq) FROM events) ORDER BY seq LIMIT ?",
            [.int(Int64(limit))]
        ) { row in
            guard !stopped else { return }
            if row.int(1) < cutoff { through = row.int(0) } else { stopped = true }
        }
        guard let through else { return 0 }
        return try ctx.db.run("DELETE FROM events WHERE seq <= ?", [.int(through)])
    }

    /// The SQL condition for event types, exact (`job.completed`) or prefixes written
    /// `job.*`, with its values; nil for no types (all events). A prefix is compared exactly,
    /// as `EventFilter.matches` does in memory: LIKE would ignore case and read `_` as a
    /// wildcard. One definition for the polling API (`GET /ojs/v1/events`) and the stream.
    static func typeCondition(_ types: [String]) -> (sql: String, values: [SQLValue])? {
        guard !types.isEmpty else { return nil }
        var terms: [String] = []
        var values: [SQLValue] = []
        for type in types {
            if type.hasSuffix(".*") {
                let prefix = String(type.dropLast())
                terms.append("substr(type, 1, ?) = ?")
                values += [.int(Int64(prefix.count)), .text(prefix)]
            } else {
                terms.append("type = ?")
                values.append(.text(type))
            }
        }
        return ("(" + terms.joined(separator: " OR ") + ")", values)
    }

    /// The newest event's seq (the log's end), or nil for an empty log.
    static func newestSeq(_ db: Connection) throws -> Int64? {
        try db.first("SELECT max(seq) FROM events") { $0.optInt(0) } ?? nil
    }

    /// The oldest event's seq still kept, or nil for an empty log.
    static func oldestSeq(_ db: Connection) throws -> Int64? {
        try db.first("SELECT min(seq) FROM events") { $0.optInt(0) } ?? nil
    }

    /// The first event written at or after `time` (Unix ms), found by bisecting `seq` with
    /// point reads, since there is no index on `time`: about 20 reads for a million events,
    /// against a scan of the whole log. Events are appended in commit order with the writer's
    /// clock, so their times do not decrease along `seq`.
    static func firstSeq(atOrAfter time: Int64, db: Connection) throws -> Int64? {
        guard var lo = try oldestSeq(db), var hi = try newestSeq(db) else { return nil }
        var best: Int64?
        while lo <= hi {
            let mid = lo + (hi - lo) / 2
            // The first event at or after `mid`; none up to `hi` means the rest is below `mid`.
            guard
                let found = try db.first("SELECT seq, time FROM events WHERE seq >= ? ORDER BY seq LIMIT 1", [.int(mid)], { ($0.int(0), $0.int(1)) }),
                found.0 <= hi
            else {
                hi = mid - 1
                continue
            }
            if found.1 >= time {
                best = found.0
                hi = mid - 1
            } else {
                lo = found.0 + 1
            }
        }
        return best
    }

    /// An event's id: its place in the log (migration 0009 says why there is no stored id).
    public static func id(seq: Int64) -> String { "evt_\(seq)" }

    /// The sequence number an id names, or nil for anything else (an id from before 0009).
    public static func seq(id: String) -> Int64? {
        guard id.hasPrefix("evt_"), let seq = Int64(id.dropFirst(4)), seq >= 0 else { return nil }
        return seq
    }
}

/// A query on the event log.
public struct EventQuery: Sendable {
    public var types: [String] = []
    public var queues: [String] = []
    public var jobTypes: [String] = []
    /// Event subjects: a job's id, a workflow's, a queue's or a cron entry's name.
    public var subjects: [String] = []
    /// Only events written at or after this time (Unix ms); with `subjects`, this is what keeps
    /// a job's history from reading the whole log (see `EventLog.firstSeq`).
    public var since: Int64?
    public var after: String?
    public var limit: Int = 100
    public init() {}
}

/// A page of events, oldest first.
public struct EventPage: Sendable {
    public var events: [String]  // serialised event objects
    public var cursor: String?
    public var hasMore: Bool
}

extension Store {
    public func events(_ q: EventQuery) async throws -> EventPage {
        try await read { db in
            var sql = "SELECT seq, type, subject, time, data FROM events WHERE 1=1"
            var values: [SQLValue] = []
            if let after = q.after {
                // A cursor that names no event reads from the start, as it always has.
                sql += " AND seq > ?"
                values.append(.int(EventLog.seq(id: after) ?? 0))
            }
            if let since = q.since {
                sql += " AND seq >= ?"
                values.append(.int(try EventLog.firstSeq(atOrAfter: since, db: db) ?? Int64.max))
            }
            if let types = EventLog.typeCondition(q.types) {
                sql += " AND " + types.sql
                values += types.values
            }
            func filter(_ column: String, _ items: [String]) {
                guard !items.isEmpty else { return }
                sql += " AND \(column) IN (" + Array(repeating: "?", count: items.count).joined(separator: ", ") + ")"
                values += items.map { .text($0) }
            }
            filter("queue", q.queues)
            filter("job_type", q.jobTypes)
            filter("subject", q.subjects)
            sql += " ORDER BY seq LIMIT ?"
            values.append(.int(Int64(q.limit + 1)))
            var events: [String] = []
            var lastId: String?
            var hasMore = false
            try db.query(sql, values) { row in
                guard events.count < q.limit else {
                    hasMore = true
                    return
                }
                var w = JSONWriter()
                w.beginObject()
                w.field("specversion", "1.0")
                let id = EventLog.id(seq: row.int(0))
                w.field("id", id)
                w.field("type", row.text(1))
                w.field("source", "ojs://ojs-edge/api")
                w.field("time", Timestamp.format(millis: row.int(3)))
                if let subject = row.optText(2) { w.field("subject", subject) }
                w.field("datacontenttype", "application/json")
                w.rawField("data", row.text(4))
                w.endObject()
                events.append(w.string)
                lastId = id
            }
            return EventPage(events: events, cursor: lastId ?? q.after, hasMore: hasMore)
        }
    }
}
