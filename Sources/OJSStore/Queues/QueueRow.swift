import OJSCore

/// A queue's settings: pause flag, level-4 rate limit window, backpressure bound. A queue is
/// recorded the first time a job, a pause or a configuration names it.
struct QueueRow: Sendable {
    var name: String
    var paused: Bool
    var pausedAt: Int64?
    var createdAt: Int64
    var rateMaxPerSecond: Int64?
    var rateWindowStart: Int64?
    var rateWindowCount: Int64
    var maxDepth: Int64?
    var backpressureStrategy: String?
    var warningThreshold: Double?
    /// When the idle-expiry purge first found the queue without jobs; nil while in use.
    var idleSince: Int64? = nil

    static let columns =
        "name, paused, paused_at, created_at, rate_max_per_second, rate_window_start, "
        + "rate_window_count, max_depth, backpressure_strategy, warning_threshold, idle_since"

    static func from(_ row: Row) -> QueueRow {
        QueueRow(
            name: row.text(0),
            paused: row.int(1) != 0,
            pausedAt: row.optInt(2),
            createdAt: row.int(3),
            rateMaxPerSecond: row.optInt(4),
            rateWindowStart: row.optInt(5),
            rateWindowCount: row.int(6),
            maxDepth: row.optInt(7),
            backpressureStrategy: row.optText(8),
            warningThreshold: row.optDouble(9),
            idleSince: row.optInt(10)
        )
    }

    static func load(_ name: String, db: Connection) throws -> QueueRow? {
        try db.first("SELECT \(columns) FROM queues WHERE name = ?", [.text(name)], from)
    }

    /// Loads the queue, recording it first if it is new, and marks it in use again.
    static func ensure(_ name: String, ctx: WriteContext) throws -> QueueRow {
        if var row = try load(name, db: ctx.db) {
            if row.idleSince != nil {
                try ctx.db.run("UPDATE queues SET idle_since = NULL WHERE name = ?", [.text(name)])
                row.idleSince = nil
            }
            return row
        }
        try ctx.db.run("INSERT INTO queues (name, created_at) VALUES (?, ?)", [.text(name), .int(ctx.now)])
        return QueueRow(
            name: name,
            paused: false,
            pausedAt: nil,
            createdAt: ctx.now,
            rateMaxPerSecond: nil,
            rateWindowStart: nil,
            rateWindowCount: 0,
            maxDepth: nil,
            backpressureStrategy: nil,
            warningThreshold: nil
        )
    }

    /// Jobs not yet finished: what a depth bound limits.
    static func depth(_ name: String, db: Connection) throws -> Int64 {
        try db.scalar(
            """
            SELECT coalesce(sum(jobs), 0) FROM queue_state_counts
              WHERE queue = ? AND state IN ('scheduled','available','pending','retryable','active')
            """,
            [.text(name)]
        )
    }
}
