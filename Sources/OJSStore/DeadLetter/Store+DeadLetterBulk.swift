import OJSCore

/// What a bulk replay or delete did.
public struct DeadLetterBulkResult: Sendable {
    /// The jobs replayed (or deleted), oldest dead letter first.
    public var jobIds: [String]
    /// Dead letters still matching the filter afterwards (past the request's limit, or
    /// dead-lettered meanwhile): the caller repeats the request until this is 0.
    public var remaining: Int64
}

/// Bulk operations on the dead-letter queue, selected by a `DeadLetterFilter`. Each runs in
/// chunks, one writer transaction per chunk, so replaying ten thousand jobs never holds the
/// writer for more than one chunk's worth of work at a time; the other requests' writes
/// interleave between chunks.
extension Store {
    /// Jobs per writer transaction in a bulk operation.
    static let deadLetterChunk = 500

    /// A job is in the dead-letter queue while it is discarded with `dead_lettered_at` set.
    static let inDeadLetterQueue = "state = 'discarded' AND dead_lettered_at IS NOT NULL"

    /// The SQL condition (and its values) selecting the filter's dead letters.
    static func deadLetterCondition(_ f: DeadLetterFilter) -> (String, [SQLValue]) {
        var sql = inDeadLetterQueue
        var values: [SQLValue] = []
        func add(_ condition: String, _ value: SQLValue) {
            sql += " AND " + condition
            values.append(value)
        }
        if let v = f.queue { add("queue = ?", .text(v)) }
        if let v = f.type { add("type = ?", .text(v)) }
        if let v = f.errorCode { add("json_extract(error, '$.code') = ?", .text(v)) }
        if let v = f.errorType { add("json_extract(error, '$.type') = ?", .text(v)) }
        if let v = f.since { add("dead_lettered_at >= ?", .int(v)) }
        if let v = f.until { add("dead_lettered_at < ?", .int(v)) }
        return (sql, values)
    }

    /// Replays matching dead letters as the single-job retry does: `available`, attempt 0,
    /// same id, error history kept.
    public func replayDeadLetters(_ filter: DeadLetterFilter) async throws -> DeadLetterBulkResult {
        try await bulkDeadLetter(filter) { id, ctx in _ = try Self.retryDeadLetterRow(id: id, ctx: ctx) }
    }

    /// Deletes matching dead letters for good.
    public func deleteDeadLetters(_ filter: DeadLetterFilter) async throws -> DeadLetterBulkResult {
        try await bulkDeadLetter(filter) { id, ctx in _ = try Self.deleteDeadLetterRow(id: id, ctx: ctx) }
    }

    /// `apply` must take the job out of the queue, so each chunk's selection is the next one.
    private func bulkDeadLetter(
        _ filter: DeadLetterFilter,
        _ apply: @escaping @Sendable (String, WriteContext) throws -> Void
    ) async throws -> DeadLetterBulkResult {
        let (condition, values) = Self.deadLetterCondition(filter)
        var done: [String] = []
        while done.count < filter.limit {
            let want = min(Self.deadLetterChunk, filter.limit - done.count)
            let ids = try await write { ctx in
                var ids: [String] = []
                try ctx.db.query(
                    "SELECT id FROM jobs WHERE \(condition) ORDER BY dead_lettered_at, rowid LIMIT ?",
                    values + [.int(Int64(want))]
                ) { ids.append($0.text(0)) }
                for id in ids { try apply(id, ctx) }
                return ids
            }
            done += ids
            if ids.count < want { break }
        }
        let remaining = try await read { db in try db.scalar("SELECT count(*) FROM jobs WHERE \(condition)", values) }
        return DeadLetterBulkResult(jobIds: done, remaining: remaining)
    }
}
