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
    /// A time-driven step filled its chunk: more may be due (the tick runs another chunk).
    public var more = false
    /// Writer transactions the pass took (one per chunk).
    public var transactions = 0

    /// Adds one chunk's counts to the pass's.
    mutating func add(_ chunk: TickReport) {
        promoted += chunk.promoted
        expired += chunk.expired
        reclaimed += chunk.reclaimed
        timedOut += chunk.timedOut
        cronFired += chunk.cronFired
        purge.add(chunk.purge)
        more = chunk.more
        transactions += chunk.transactions
    }

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
    /// Idle rows expired (`idleExpiryMs`): workers not seen, queues without jobs, rate-limit
    /// partitions unused.
    public var workers = 0
    public var queues = 0
    public var rateLimits = 0
    /// Rows remain past the transaction's time budget; the next transaction continues.
    public var more = false

    public init() {}

    mutating func add(_ other: PurgeReport) {
        completed += other.completed
        discarded += other.discarded
        cancelled += other.cancelled
        workflows += other.workflows
        events += other.events
        idempotencyKeys += other.idempotencyKeys
        workers += other.workers
        queues += other.queues
        rateLimits += other.rateLimits
        more = other.more
    }

    /// Jobs deleted.
    public var jobs: Int { completed + discarded + cancelled }
}
