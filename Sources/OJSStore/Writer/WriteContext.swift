import CSQLite
import OJSCore

/// The WAL's size in frames, as SQLite reports it after each commit (`sqlite3_wal_hook`).
final class WALFrameCount {
    var count: Int32 = 0
}

/// What a write sees inside the writer's transaction: the connection, the batch's clock
/// reading, and the FIFO sequence. Lives on the writer thread only.
public final class WriteContext {
    public let db: Connection
    /// Unix milliseconds, read once per batch so every request in it agrees on "now".
    public internal(set) var now: Int64 = 0
    /// The highest FIFO position handed out; the writer stores it with each commit's position
    /// (`replication_position.last_seq`), so opening reads one row instead of scanning `jobs`.
    private(set) var lastSeq: Int64 = 0
    private var rng = BufferedSystemRandom()
    /// Work to run once the batch's transaction has committed (never on rollback).
    var afterCommit: [@Sendable () -> Void] = []
    /// The `now` at which time-driven maintenance last ran in this context, so a batch of
    /// fetches runs it once.
    var maintainedAt: Int64 = -1
    /// When the last retention purge ran, so serverless fetches purge at most once a second.
    var purgedAt: Int64 = Int64.min / 2
    /// When idle workers, queues and rate-limit partitions were last swept.
    var idleSweptAt: Int64 = Int64.min / 2

    let walFrames = WALFrameCount()
    /// Uptime nanoseconds before which the writer does not try another TRUNCATE checkpoint.
    var nextTruncateAttempt: UInt64 = 0

    /// The storage failure a request in this batch ran into. On a full disk or an I/O error
    /// SQLite may roll back the whole transaction, and the next statement then fails for an
    /// unrelated reason (no such savepoint); this keeps the real cause for the answer.
    var storageFailure: SQLiteError?

    /// Whether this batch collects lifecycle events (an observer is set), and those collected.
    var observesLifecycle = false
    var lifecycleEvents: [JobLifecycleEvent] = []

    init(db: Connection) throws {
        self.db = db
        lastSeq = try db.first("SELECT last_seq FROM replication_position WHERE id = 1") { $0.int(0) } ?? 0
        // The hook's context pointer is this context's counter, which lives as long as the
        // connection (both belong to the writer thread until shutdown).
        sqlite3_wal_hook(
            db.rawHandle,
            { context, _, _, frames in
                if let context { Unmanaged<WALFrameCount>.fromOpaque(context).takeUnretainedValue().count = frames }
                return SQLITE_OK
            },
            Unmanaged.passUnretained(walFrames).toOpaque()
        )
    }

    /// The next FIFO position for a job becoming available now. Ordered by time first, so
    /// positions assigned in bulk from a due time (`run_at << 10`) interleave correctly.
    public func nextSeq() -> Int64 {
        lastSeq = max(lastSeq + 1, now << 10)
        return lastSeq
    }

    /// A uniform random number in [0, 1), for jitter.
    public func randomUnit() -> Double { Double.random(in: 0..<1, using: &rng) }

    public func newId() -> String { UUIDv7.make(millis: now, using: &rng) }

    /// Runs `body` after COMMIT succeeds (for example to wake waiting readers).
    public func onCommit(_ body: @escaping @Sendable () -> Void) { afterCommit.append(body) }
}
