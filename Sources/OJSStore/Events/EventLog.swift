import OJSCore

/// The event log behind `GET /ojs/v1/events`: CloudEvents-shaped records written in the same
/// transaction as the change they describe, so the log never disagrees with the jobs.
enum EventLog {
    static func record(_ ctx: WriteContext, type: String, job: JobSnapshot, data: [(String, JSONValue)]) throws {
        try record(ctx, type: type, subject: job.id, queue: job.queue, jobType: job.type, data: data)
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
            "INSERT INTO events (id, type, subject, queue, job_type, time, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text("evt_" + ctx.newId()), .text(type), SQLValue(subject), SQLValue(queue), SQLValue(jobType), .int(ctx.now),
                .text(JSONValue.object(JSONObject(data)).jsonText),
            ]
        )
    }
}

/// A query on the event log.
public struct EventQuery: Sendable {
    public var types: [String] = []
    public var queues: [String] = []
    public var jobTypes: [String] = []
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
            var sql = "SELECT seq, id, type, subject, time, data FROM events WHERE 1=1"
            var values: [SQLValue] = []
            if let after = q.after {
                sql += " AND seq > coalesce((SELECT seq FROM events WHERE id = ?), 0)"
                values.append(.text(after))
            }
            func filter(_ column: String, _ items: [String], prefixable: Bool) {
                guard !items.isEmpty else { return }
                var terms: [String] = []
                for item in items {
                    if prefixable, item.hasSuffix(".*") {
                        terms.append("\(column) LIKE ?")
                        values.append(.text(String(item.dropLast()) + "%"))
                    } else {
                        terms.append("\(column) = ?")
                        values.append(.text(item))
                    }
                }
                sql += " AND (" + terms.joined(separator: " OR ") + ")"
            }
            filter("type", q.types, prefixable: true)
            filter("queue", q.queues, prefixable: false)
            filter("job_type", q.jobTypes, prefixable: false)
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
                w.field("id", row.text(1))
                w.field("type", row.text(2))
                w.field("source", "ojs://ojs-edge/api")
                w.field("time", Timestamp.format(millis: row.int(4)))
                if let subject = row.optText(3) { w.field("subject", subject) }
                w.field("datacontenttype", "application/json")
                w.rawField("data", row.text(5))
                w.endObject()
                events.append(w.string)
                lastId = row.text(1)
            }
            return EventPage(events: events, cursor: lastId ?? q.after, hasMore: hasMore)
        }
    }
}
