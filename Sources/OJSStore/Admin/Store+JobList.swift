import OJSCore

/// Which jobs `GET /ojs/v1/admin/jobs` lists: any of state, queue and type, a page at a time.
public struct JobListQuery: Sendable, Equatable {
    public var state: JobState?
    public var queue: String?
    public var type: String?
    public var limit = 20
    public var offset = 0
    public init() {}
}

/// A page of the job list, and the total when it is known without counting rows.
public struct JobListPage: Sendable {
    public var jobs: [JobSnapshot]
    /// From `queue_state_counts` when the query has no type filter; nil otherwise, as a count
    /// by type would read every matching row.
    public var total: Int64?
    public var hasMore: Bool
}

extension Store {
    /// Lists jobs newest first, or in the order that state's partial index keeps, so a page
    /// reads about `limit + offset` index entries rather than the table: at a million jobs a
    /// sort of every match would take seconds of a reader for each page the console shows.
    public func jobList(_ q: JobListQuery) async throws -> JobListPage {
        let scan = Self.jobListScan(q.state, hasQueue: q.queue != nil)
        var sql = "SELECT \(JobColumns.list) FROM jobs WHERE \(scan.condition)"
        var values: [SQLValue] = []
        if let queue = q.queue {
            sql += " AND queue = ?"
            values.append(.text(queue))
        }
        if let type = q.type {
            sql += " AND type = ?"
            values.append(.text(type))
        }
        sql += " ORDER BY \(scan.order) LIMIT ? OFFSET ?"
        values += [.int(Int64(q.limit + 1)), .int(Int64(q.offset))]
        let (listSQL, listValues) = (sql, values)
        return try await read { db in
            var jobs = try db.jobs(listSQL, listValues)
            let hasMore = jobs.count > q.limit
            if hasMore { jobs.removeLast() }
            var total: Int64?
            if q.type == nil {
                var countSQL = "SELECT coalesce(sum(jobs), 0) FROM queue_state_counts WHERE 1 = 1"
                var countValues: [SQLValue] = []
                if let state = q.state {
                    countSQL += " AND state = ?"
                    countValues.append(.text(state.rawValue))
                }
                if let queue = q.queue {
                    countSQL += " AND queue = ?"
                    countValues.append(.text(queue))
                }
                total = try db.scalar(countSQL, countValues)
            }
            return JobListPage(jobs: jobs, total: total, hasMore: hasMore)
        }
    }

    /// The condition and order for one state. Each condition restates its partial index's
    /// WHERE clause literally, because SQLite uses a partial index only when the query's
    /// terms contain the index's own (a bound parameter would not do). States without a
    /// fitting index walk the table newest first and stop at the page's end.
    static func jobListScan(_ state: JobState?, hasQueue: Bool) -> (condition: String, order: String) {
        switch state {
        case .available? where hasQueue:
            return ("state = 'available'", "priority DESC, seq")  // jobs_claim: claim order
        case let due? where due == .scheduled || due == .retryable:
            return ("state IN ('scheduled', 'retryable') AND state = '\(due.rawValue)'", "run_at")  // jobs_due: soonest first
        case .active?:
            return ("state = 'active'", "visible_until")  // jobs_reservation
        case .completed?:
            return ("state = 'completed'", "completed_at DESC")  // jobs_purge_completed
        case .cancelled?:
            return ("state = 'cancelled'", "cancelled_at DESC")  // jobs_purge_cancelled
        case let state?:
            return ("state = '\(state.rawValue)'", "rowid DESC")
        case nil:
            return ("1 = 1", "rowid DESC")
        }
    }
}
