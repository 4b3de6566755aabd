/// What one scheduler pass did. `POST /ojs/v1/admin/tick` answers with it, so a platform
/// cron's logs show whether the pass had anything to do and whether a backlog remains.
public struct TickReport: Sendable, Equatable {
    /// `scheduled`/`retryable` jobs that became `available`.
    public var promoted = 0
    /// Unstarted jobs past `expires_at`, now `discarded`.
    public var expired = 0
    /// Active jobs whose reservation lapsed (requeued, or failed when out of attempts).
    public var reclaimed = 0
    /// Active jobs past their execution timeout, failed through their retry policy.
    public var timedOut = 0
    /// Cron entries that enqueued a job.
    public var cronFired = 0
    public var purge = PurgeReport()

    public init() {}
}

/// Rows a retention purge deleted.
public struct PurgeReport: Sendable, Equatable {
    public var completed = 0
    public var discarded = 0
    public var cancelled = 0
    public var workflows = 0
    public var events = 0
    public var idempotencyKeys = 0
    /// Some kind hit the per-pass bound: more rows are due and the next pass continues.
    public var more = false

    public init() {}

    /// Jobs deleted.
    public var jobs: Int { completed + discarded + cancelled }
}
