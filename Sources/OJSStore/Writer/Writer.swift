import CSQLite
import Foundation
import Synchronization

/// The one writer. Every mutation runs here, on a dedicated thread that owns the only
/// read-write connection. Requests that arrive while a transaction is being committed are
/// gathered into the next one (group commit): one `BEGIN IMMEDIATE … COMMIT` and one fsync
/// for the whole batch, each request inside its own SAVEPOINT so one failure does not undo
/// the others. A request is answered only after the COMMIT that contains it returns.
public final class Writer: Sendable {
    public typealias Clock = @Sendable () -> Int64

    final class Item: @unchecked Sendable {
        // Touched only by the writer thread until `complete` hands the result over.
        let execute: (WriteContext) -> Bool
        let complete: ((any Error)?) -> Void
        /// Runs outside any transaction (checkpoints, replication set-up), alone.
        let exclusive: Bool
        init(exclusive: Bool = false, execute: @escaping (WriteContext) -> Bool, complete: @escaping ((any Error)?) -> Void) {
            self.exclusive = exclusive
            self.execute = execute
            self.complete = complete
        }
    }

    /// A committed transaction's place in the database's history.
    public struct Position: Sendable, Equatable {
        public var txid: Int64
        public var committedAt: Int64
    }

    /// Observes each committed batch on the writer thread (replication capture, checkpoints,
    /// metrics). Runs before the batch's requests are answered. `position` is nil when the
    /// batch changed nothing (no WAL frames were written).
    public typealias CommitObserver = @Sendable (_ db: Connection, _ batchSize: Int, _ position: Position?) -> Void

    private let queue = WorkQueue<Item>()
    private let maxBatch: Int
    private let maxBatchBytes: Int
    private let clock: Clock
    private let finished = DispatchSemaphore(value: 0)
    private let observers = Mutex<[CommitObserver]>([])
    private let stats = Mutex(WriterStats())
    private let committed: Mutex<Position>
    /// Migrations this open applied (empty when the schema was current).
    public let appliedMigrations: [String]
    /// Fencing: asked around every commit (`CommitGate`); open unless a failover node installs
    /// its lease check.
    public let gate = CommitGate()

    public struct WriterStats: Sendable {
        public var batches: Int = 0
        public var requests: Int = 0
        public var lastBatchSize: Int = 0
        public var lastCommitMicros: Int = 0
    }

    /// Opens the read-write connection, applies migrations, and starts the writer thread.
    public init(
        path: String,
        synchronous: SynchronousMode,
        maxBatch: Int = 512,
        maxBatchBytes: Int = Writer.defaultMaxBatchBytes,
        maxDatabaseBytes: Int64? = nil,
        clock: @escaping Clock
    ) throws {
        let db = try Connection(path: path, options: .init(readOnly: false, synchronous: synchronous))
        // After a checkpoint lets the WAL start over, SQLite cuts the file back to this size:
        // without it one long reader grew the WAL from 4 to 39 MiB and the file never shrank.
        try db.execute("PRAGMA journal_size_limit = \(Self.journalSizeLimitBytes)")
        self.walPath = path + "-wal"
        // SQLite quietly opens a write-protected file read-only; the writer must not start so.
        guard sqlite3_db_readonly(db.rawHandle, "main") == 0 else {
            throw SQLiteError(code: SQLITE_READONLY, message: "the database file or its directory is read-only", sql: nil)
        }
        self.appliedMigrations = try Migrations.apply(to: db, now: clock())
        if let maxDatabaseBytes {
            // SQLite answers SQLITE_FULL past this many pages, exactly as on a full disk, so
            // a quota and a full disk take the same path.
            let pageSize = try db.first("PRAGMA page_size") { $0.int(0) } ?? 4096
            try db.execute("PRAGMA max_page_count = \(max(1, maxDatabaseBytes / pageSize))")
        }
        let start =
            try db.first("SELECT txid, committed_at FROM replication_position WHERE id = 1") {
                Position(txid: $0.int(0), committedAt: $0.int(1))
            } ?? Position(txid: 0, committedAt: 0)
        self.committed = Mutex(start)
        let handoff = ThreadHandoff(value: try WriteContext(db: db))
        self.maxBatch = maxBatch
        self.maxBatchBytes = max(1, maxBatchBytes)
        self.clock = clock
        let thread = Thread { [self] in
            // The context (and its connection) is released when `loop` returns, before the signal.
            self.loop(handoff.take())
            self.finished.signal()
        }
        thread.name = "ojs-writer"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Observes each committed batch's size and duration (microseconds), for metrics.
    public typealias BatchTimingObserver = @Sendable (_ batchSize: Int, _ micros: Int) -> Void
    private let timingObservers = Mutex<[BatchTimingObserver]>([])

    public func addTimingObserver(_ observer: @escaping BatchTimingObserver) {
        timingObservers.withLock { $0.append(observer) }
    }

    public func addObserver(_ observer: @escaping CommitObserver) {
        observers.withLock { $0.append(observer) }
    }

    private let lifecycleObserver = Mutex<JobLifecycleObserver?>(nil)

    /// Sets the one observer of committed job lifecycle events (tracing). Until one is set,
    /// writes collect nothing.
    public func setLifecycleObserver(_ observer: @escaping JobLifecycleObserver) {
        lifecycleObserver.withLock { $0 = observer }
    }

    public var currentStats: WriterStats { stats.withLock { $0 } }

    private let progress = Mutex(WriterProgress())

    /// The writer's queue, progress and checkpoints as of now (any thread).
    public var health: WriterHealth {
        let now = DispatchTime.now().uptimeNanoseconds
        let depth = queue.depth
        let queuedOldest = queue.oldestQueuedAt
        return progress.withLock { p in
            let oldest = [p.inFlightQueuedAt, queuedOldest].compactMap { $0 }.min()
            return WriterHealth(
                queueDepth: depth,
                busy: p.busySince != nil,
                oldestWaitingMs: oldest.map { Int((now &- min(now, $0)) / 1_000_000) } ?? 0,
                sinceLastBatchMs: Int((now &- min(now, p.lastFinishedAt)) / 1_000_000),
                checkpoints: p.checkpoints,
                walBytes: WriterHealth.fileSize(walPath)
            )
        }
    }

    private let failure = Mutex<String?>(nil)

    /// The last storage failure (disk full, read-only or failing filesystem) if no write has
    /// committed since: health reports degraded for exactly as long as writes cannot land.
    public var storageFailure: String? { failure.withLock { $0 } }

    private func noteStorageFailure(_ error: any Error) {
        guard let sqlite = error as? SQLiteError, sqlite.isStorageFailure else { return }
        failure.withLock { $0 = sqlite.message }
    }

    /// The newest committed position: what a response just written reflects at least.
    public var position: Position { committed.withLock { $0 } }

    /// Runs `body` in the next write transaction and returns its result after COMMIT.
    /// A thrown error rolls back only this request's changes. `bytes` is roughly what the
    /// request writes (its payload): a group commit gathers at most `maxBatchBytes` of them.
    public func write<T: Sendable>(bytes: Int = 0, _ body: @escaping @Sendable (WriteContext) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            nonisolated(unsafe) var outcome: Result<T, any Error>?
            let item = Item(
                execute: { ctx in
                    do {
                        outcome = .success(try body(ctx))
                        return true
                    } catch let error as SQLiteError {
                        // The storage failed, not the request: callers see one error type.
                        self.noteStorageFailure(error)
                        if error.isStorageFailure { ctx.storageFailure = error }
                        outcome = .failure(StoreError.storage(error))
                        return false
                    } catch {
                        outcome = .failure(error)
                        return false
                    }
                },
                complete: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else if let outcome {
                        continuation.resume(with: outcome)
                    } else {
                        continuation.resume(throwing: StoreError.shuttingDown)
                    }
                }
            )
            if !queue.push(item, bytes: bytes) { continuation.resume(throwing: StoreError.shuttingDown) }
        }
    }

    /// Runs `body` on the writer thread between transactions, with no transaction open: for
    /// work SQLite refuses inside one (checkpoints) or that must see no write in progress.
    public func exclusive<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            nonisolated(unsafe) var outcome: Result<T, any Error>?
            let item = Item(
                exclusive: true,
                execute: { ctx in
                    outcome = Result { try body(ctx.db) }
                    return true
                },
                complete: { _ in continuation.resume(with: outcome ?? .failure(StoreError.shuttingDown)) }
            )
            if !queue.push(item) { continuation.resume(throwing: StoreError.shuttingDown) }
        }
    }

    /// Checkpoint once the WAL holds this many frames (about 4 MiB of 4 KiB pages), after
    /// the commit observers (replication capture) have read them.
    public static let checkpointFrames: Int32 = 1000

    /// The most request payload bytes one group commit gathers. A batch push of 1,000 jobs
    /// with 3.5 KB args is 3.5 MB; 512 such requests in one transaction (the count bound
    /// alone) would be 1.8 GB of pages in one commit and one replication record. 8 MiB keeps a
    /// commit to tens of milliseconds on this machine (a 1,000-job batch commits in about
    /// 90 ms), so a small request queued behind big ones waits for one bounded commit.
    public static let defaultMaxBatchBytes = 8 << 20

    /// WAL size SQLite truncates the file back to when the WAL starts over after a complete
    /// checkpoint (`PRAGMA journal_size_limit`): twice the passive threshold, so the file is
    /// not cut and regrown on every cycle of normal operation.
    public static let journalSizeLimitBytes = 8 << 20

    /// Past this many frames (about 16 MiB) passive checkpoints are not keeping up: a reader
    /// holds an old snapshot. The writer then tries a TRUNCATE checkpoint between commits.
    public static let truncateFrames: Int32 = 4000

    /// How long a TRUNCATE checkpoint may wait for readers before giving up (busy). Claims
    /// wait behind it on the writer thread, so it is a few milliseconds, not the connection's
    /// 5 s busy timeout; a reader still there is tried again `truncateRetryMs` later.
    public static let truncateWaitMs: Int32 = 10
    public static let truncateRetryMs: UInt64 = 250

    /// The `-wal` file.
    public let walPath: String

    /// Checkpoints between transactions if the WAL is past its threshold. Commits do this
    /// themselves; this is for a primary that went quiet while a reader held the WAL large, so
    /// the file shrinks once the reader is gone even if no write comes. The scheduler calls it
    /// every second.
    public func checkpointIfIdleWALIsLarge() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let item = Item(
                exclusive: true,
                execute: { ctx in
                    self.checkpointIfLarge(ctx)
                    return true
                },
                complete: { _ in continuation.resume() }
            )
            if !queue.push(item) { continuation.resume() }
        }
    }

    /// Stops taking work, finishes what is queued, and closes the connection.
    public func shutdown() {
        queue.close()
        finished.wait()
    }

    private func loop(_ ctx: WriteContext) {
        while let taken = queue.takeEntries(max: maxBatch, maxBytes: maxBatchBytes) {
            let batch = taken.items
            progress.withLock {
                $0.busySince = DispatchTime.now().uptimeNanoseconds
                $0.inFlightQueuedAt = taken.oldestQueuedAt
            }
            defer {
                progress.withLock {
                    $0.busySince = nil
                    $0.inFlightQueuedAt = nil
                    $0.lastFinishedAt = DispatchTime.now().uptimeNanoseconds
                }
            }
            // Consecutive transactional requests share one transaction; exclusive ones run alone.
            var pending: [Item] = []
            for item in batch {
                if item.exclusive {
                    if !pending.isEmpty { run(pending, ctx) }
                    pending.removeAll()
                    _ = item.execute(ctx)
                    item.complete(nil)
                } else {
                    pending.append(item)
                }
            }
            if !pending.isEmpty { run(pending, ctx) }
        }
        try? ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    private func run(_ batch: [Item], _ ctx: WriteContext) {
        let started = DispatchTime.now().uptimeNanoseconds
        ctx.now = clock()
        ctx.afterCommit.removeAll()
        ctx.storageFailure = nil
        let lifecycle = lifecycleObserver.withLock { $0 }
        ctx.observesLifecycle = lifecycle != nil
        ctx.lifecycleEvents.removeAll(keepingCapacity: true)
        let db = ctx.db
        guard gate.isOpen else {
            gate.close()
            for item in batch { item.complete(StoreError.notPrimary) }
            return
        }
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch {
            noteStorageFailure(error)
            for item in batch { item.complete(StoreError.storage(error)) }
            return
        }
        let changesBefore = sqlite3_total_changes64(db.rawHandle)
        for item in batch {
            do {
                try db.execute("SAVEPOINT request")
                let reported = ctx.lifecycleEvents.count
                if item.execute(ctx) {
                    try db.execute("RELEASE request")
                } else {
                    try db.execute("ROLLBACK TO request")
                    try db.execute("RELEASE request")
                    ctx.lifecycleEvents.removeSubrange(reported...)
                }
            } catch {
                abort(batch, ctx, error)
                return
            }
        }
        var position: Position?
        do {
            // Only a transaction that wrote something gets a new position (and WAL frames).
            if sqlite3_total_changes64(db.rawHandle) != changesBefore {
                let previous = committed.withLock { $0 }
                let next = Position(txid: previous.txid + 1, committedAt: ctx.now)
                try db.run(
                    "UPDATE replication_position SET txid = ?, committed_at = ?, last_seq = ? WHERE id = 1",
                    [.int(next.txid), .int(next.committedAt), .int(ctx.lastSeq)]
                )
                position = next
            }
            // The statements may have taken a while: a lease that ran out meanwhile rolls back.
            guard gate.isOpen else {
                gate.close()
                try db.execute("ROLLBACK")
                for item in batch { item.complete(StoreError.notPrimary) }
                return
            }
            try db.execute("COMMIT")
        } catch {
            abort(batch, ctx, error)
            return
        }
        if position != nil, !gate.isOpen {
            // Paused inside COMMIT past the lease: the transaction is on disk but was never
            // the cluster's. It is not captured (no replica sees it), not acknowledged, and
            // the node's copy is discarded when it rejoins (its log ends before it).
            gate.close()
            if let position { committed.withLock { $0 = position } }
            for item in batch { item.complete(StoreError.notPrimary) }
            return
        }
        if let position {
            committed.withLock { $0 = position }
            failure.withLock { $0 = nil }
        }
        for observer in observers.withLock({ $0 }) { observer(db, batch.count, position) }
        if position != nil { checkpointIfLarge(ctx) }
        for hook in ctx.afterCommit { hook() }
        if let lifecycle, !ctx.lifecycleEvents.isEmpty { lifecycle(ctx.lifecycleEvents) }
        let micros = Int((DispatchTime.now().uptimeNanoseconds - started) / 1000)
        for observer in timingObservers.withLock({ $0 }) { observer(batch.count, micros) }
        stats.withLock {
            $0.batches += 1
            $0.requests += batch.count
            $0.lastBatchSize = batch.count
            $0.lastCommitMicros = micros
        }
        for item in batch { item.complete(nil) }
    }

    /// A passive checkpoint never waits for readers; once it has copied every frame, SQLite
    /// starts the WAL over at the next commit (and `journal_size_limit` cuts the file back), so
    /// the file stays bounded with or without replicas. When a reader's old snapshot kept
    /// passive checkpoints from finishing and the WAL passed `truncateFrames`, a TRUNCATE
    /// checkpoint waits up to `truncateWaitMs` for readers to move on, then empties the file.
    /// Runs after the commit observers, so replication capture has read every frame.
    private func checkpointIfLarge(_ ctx: WriteContext) {
        let frames = ctx.walFrames.count
        guard frames >= Self.checkpointFrames else { return }
        let handle = ctx.db.rawHandle
        var logFrames: Int32 = 0
        var checkpointed: Int32 = 0
        let now = DispatchTime.now().uptimeNanoseconds
        func truncate() {
            ctx.nextTruncateAttempt = now + Self.truncateRetryMs * 1_000_000
            sqlite3_busy_timeout(handle, Self.truncateWaitMs)
            let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, &logFrames, &checkpointed)
            sqlite3_busy_timeout(handle, Connection.Options().busyTimeoutMs)
            note(checkpoint: rc)
            if rc == SQLITE_OK { ctx.walFrames.count = 0 }
        }
        if frames >= Self.truncateFrames, now >= ctx.nextTruncateAttempt { return truncate() }
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &checkpointed)
        if rc == SQLITE_OK, logFrames == checkpointed {
            // Every frame is in the database. A large WAL file is emptied now (nothing is
            // left to copy, so this costs only the readers' wait) rather than at the next write.
            if frames >= Self.truncateFrames { return truncate() }
            ctx.walFrames.count = 0
            note(checkpoint: rc)
        } else {
            // Passive: frames a reader still needs stay in the WAL; that is "busy" too.
            note(checkpoint: rc == SQLITE_OK ? SQLITE_BUSY : rc)
        }
    }

    private func note(checkpoint rc: Int32) {
        progress.withLock {
            switch rc & 0xff {
            case SQLITE_OK: $0.checkpoints.ok += 1
            case SQLITE_BUSY, SQLITE_LOCKED: $0.checkpoints.busy += 1
            default: $0.checkpoints.error += 1
            }
        }
    }

    private func abort(_ batch: [Item], _ ctx: WriteContext, _ error: any Error) {
        let error = ctx.storageFailure ?? error
        noteStorageFailure(error)
        if !ctx.db.isAutocommit { try? ctx.db.execute("ROLLBACK") }
        for item in batch { item.complete(StoreError.storage(error)) }
    }
}

/// Failures of the store itself, as opposed to a client's mistake.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case shuttingDown
    case readOnly
    case storage(any Error)
    /// The node lost (or never held) the cluster's leader lease: it commits nothing.
    case notPrimary

    public var description: String {
        switch self {
        case .shuttingDown: return "the store is shutting down"
        case .readOnly: return "this store is a read-only replica"
        case .storage(let e): return "storage failure: \(e)"
        case .notPrimary: return "this node is not the cluster's primary"
        }
    }
}
