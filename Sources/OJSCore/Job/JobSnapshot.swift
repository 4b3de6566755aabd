/// A job as stored: lifecycle fields (columns, so queries can filter on them) plus the
/// immutable document written at enqueue time. Rendering splices the stored document text
/// rather than parsing it, so a GET costs one row read and one pass of byte copying.
public struct JobSnapshot: Sendable, Equatable {
    public var id: String
    public var type: String
    public var queue: String
    public var state: JobState
    public var priority: Int
    public var attempt: Int
    public var maxAttempts: Int
    public var createdAt: Int64
    public var enqueuedAt: Int64?
    public var startedAt: Int64?
    public var completedAt: Int64?
    public var cancelledAt: Int64?
    public var discardedAt: Int64?
    public var nextAttemptAt: Int64?
    public var retryDelayMs: Int64?
    public var workerId: String?
    /// JSON text of the latest error, the error history array, the result, the parent results.
    public var error: String?
    public var errors: String?
    public var result: String?
    public var parentResults: String?
    public var workflowId: String?
    /// JSON object text from `JobSpec.document()`.
    public var document: String

    public init(
        id: String,
        type: String,
        queue: String,
        state: JobState,
        priority: Int,
        attempt: Int,
        maxAttempts: Int,
        createdAt: Int64,
        document: String
    ) {
        self.id = id
        self.type = type
        self.queue = queue
        self.state = state
        self.priority = priority
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.createdAt = createdAt
        self.document = document
    }

    /// Writes the OJS job object.
    public func write(into w: inout JSONWriter) {
        w.beginObject()
        w.field("specversion", "1.0")
        w.field("id", id)
        w.field("type", type)
        w.field("queue", queue)
        w.field("state", state.rawValue)
        w.field("priority", priority)
        w.field("attempt", attempt)
        w.field("max_attempts", maxAttempts)
        w.field("created_at", Timestamp.format(millis: createdAt))
        if let enqueuedAt { w.field("enqueued_at", Timestamp.format(millis: enqueuedAt)) }
        if let startedAt { w.field("started_at", Timestamp.format(millis: startedAt)) }
        if let completedAt { w.field("completed_at", Timestamp.format(millis: completedAt)) }
        if let cancelledAt { w.field("cancelled_at", Timestamp.format(millis: cancelledAt)) }
        if let discardedAt { w.field("discarded_at", Timestamp.format(millis: discardedAt)) }
        if let nextAttemptAt { w.field("next_attempt_at", Timestamp.format(millis: nextAttemptAt)) }
        if let retryDelayMs { w.field("retry_delay_ms", retryDelayMs) }
        if let workerId { w.field("worker_id", workerId) }
        if let error { w.rawField("error", error) }
        if let errors { w.rawField("errors", errors) }
        if let result { w.rawField("result", result) }
        if let parentResults { w.rawField("parent_results", parentResults) }
        if let workflowId { w.field("workflow_id", workflowId) }
        w.spliceObjectMembers(document)
        w.endObject()
    }

    public var json: String {
        var w = JSONWriter()
        write(into: &w)
        return w.string
    }

    /// The stored document parsed (for logic that needs the retry policy, args or meta).
    public func parsedDocument() -> JSONObject {
        (try? JSONParser.parse(document))?.objectValue ?? JSONObject()
    }
}
