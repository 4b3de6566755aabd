import OJSCore

/// One row of the event log as a live stream needs it: its columns as stored, the data still
/// JSON text (a stream renders it once, for every subscriber).
public struct EventRecord: Sendable, Equatable {
    public var seq: Int64
    public var type: String
    /// The job's id for job events, the workflow's or the cron entry's for theirs.
    public var subject: String?
    public var queue: String?
    public var jobType: String?
    /// Unix milliseconds.
    public var time: Int64
    /// The stored `data` object, as JSON text.
    public var data: String

    public init(seq: Int64, type: String, subject: String?, queue: String?, jobType: String?, time: Int64, data: String) {
        self.seq = seq
        self.type = type
        self.subject = subject
        self.queue = queue
        self.jobType = jobType
        self.time = time
        self.data = data
    }

    /// The event's id (`evt_<seq>`).
    public var id: String { EventLog.id(seq: seq) }
}

extension Store {
    /// Events with `after < seq <= through` that `filter` admits, oldest first, at most
    /// `limit`. A stream pages through the log with it when it resumes or falls behind the
    /// live feed; `through` is a position the caller knows is committed, so a page that comes
    /// back short means everything up to `through` was read.
    public func eventRecords(
        after: Int64,
        through: Int64 = .max,
        matching filter: EventFilter = EventFilter(),
        limit: Int
    ) async throws
        -> [EventRecord]
    {
        try await read { db in
            var sql = "SELECT seq, type, subject, queue, job_type, time, data FROM events WHERE seq > ? AND seq <= ?"
            var values: [SQLValue] = [.int(after), .int(through)]
            if let types = EventLog.typeCondition(filter.types) {
                sql += " AND " + types.sql
                values += types.values
            }
            if let queue = filter.queue {
                sql += " AND queue = ?"
                values.append(.text(queue))
            }
            if let subject = filter.subject {
                sql += " AND subject = ?"
                values.append(.text(subject))
            }
            sql += " ORDER BY seq LIMIT ?"
            values.append(.int(Int64(limit)))
            var records: [EventRecord] = []
            try db.query(sql, values) { row in
                records.append(
                    EventRecord(
                        seq: row.int(0),
                        type: row.text(1),
                        subject: row.optText(2),
                        queue: row.optText(3),
                        jobType: row.optText(4),
                        time: row.int(5),
                        data: row.text(6)
                    )
                )
            }
            return records
        }
    }

    /// The newest event's sequence number, 0 for an empty log: where a stream without a
    /// resume point starts.
    public func lastEventSeq() async throws -> Int64 {
        try await read { db in try EventLog.newestSeq(db) } ?? 0
    }
}
