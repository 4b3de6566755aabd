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
        init(execute: @escaping (WriteContext) -> Bool, complete: @escaping ((any Error)?) -> Void) {
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
    private let clock: Clock
    private let finished = DispatchSemaphore(value: 0)
    private let observers = Mutex<[CommitObserver]>([])
    private let stats = Mutex(WriterStats())
    private let committed: Mutex<Position>

    public struct WriterStats: Sendable {
        public var batches: Int = 0
        public var requests: Int = 0
        public var lastBatchSize: Int = 0
        public var lastCommitMicros: Int = 0
    }

    /// Opens the read-write connection, applies migrations, and starts the writer thread.
    public init(path: String, synchronous: SynchronousMode, maxBatch: Int = 512, clock: @escaping Clock) throws {
        let db = try Connection(path: path, options: .init(readOnly: false, synchronous: synchronous))
        try Migrations.apply(to: db)
        let start = try db.first("SELECT txid, committed_at FROM replication_position WHERE id = 1") {
            Position(txid: $0.int(0), committedAt: $0.int(1))
        } ?? Position(txid: 0, committedAt: 0)
        self.committed = Mutex(start)
        let handoff = ThreadHandoff(value: try WriteContext(db: db))
        self.maxBatch = maxBatch
        self.clock = clock
        let thread = Thread { [self] in self.loop(handoff.value) }
        thread.name = "ojs-writer"
        thread.stackSize = 4 << 20
        thread.start()
    }

    public func addObserver(_ observer: @escaping CommitObserver) {
        observers.withLock { $0.append(observer) }
    }

    public var currentStats: WriterStats { stats.withLock { $0 } }

    /// The newest committed position: what a response just written reflects at least.
    public var position: Position { committed.withLock { $0 } }

    /// Runs `body` in the next write transaction and returns its result after COMMIT.
    /// A thrown error rolls back only this request's changes.
    public func write<T: Sendable>(_ body: @escaping @Sendable (WriteContext) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            nonisolated(unsafe) var outcome: Result<T, any Error>?
            let item = Item(
                execute: { ctx in
                    do {
                        outcome = .success(try body(ctx))
                        return true
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
                })
            if !queue.push(item) { continuation.resume(throwing: StoreError.shuttingDown) }
        }
    }

    /// Stops taking work, finishes what is queued, and closes the connection.
    public func shutdown() {
        queue.close()
        finished.wait()
    }

    private func loop(_ ctx: WriteContext) {
        while let batch = queue.takeBatch(max: maxBatch) {
            run(batch, ctx)
        }
        try? ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finished.signal()
    }

    private func run(_ batch: [Item], _ ctx: WriteContext) {
        let started = DispatchTime.now().uptimeNanoseconds
        ctx.now = clock()
        ctx.afterCommit.removeAll()
        let db = ctx.db
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch {
            for item in batch { item.complete(StoreError.storage(error)) }
            return
        }
        let changesBefore = sqlite3_total_changes64(db.rawHandle)
        for item in batch {
            do {
                try db.execute("SAVEPOINT request")
                if item.execute(ctx) {
                    try db.execute("RELEASE request")
                } else {
                    try db.execute("ROLLBACK TO request")
                    try db.execute("RELEASE request")
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
                try db.run("UPDATE replication_position SET txid = ?, committed_at = ? WHERE id = 1", [.int(next.txid), .int(next.committedAt)])
                position = next
            }
            try db.execute("COMMIT")
        } catch {
            abort(batch, ctx, error)
            return
        }
        if let position { committed.withLock { $0 = position } }
        for observer in observers.withLock({ $0 }) { observer(db, batch.count, position) }
        for hook in ctx.afterCommit { hook() }
        let micros = Int((DispatchTime.now().uptimeNanoseconds - started) / 1000)
        stats.withLock {
            $0.batches += 1
            $0.requests += batch.count
            $0.lastBatchSize = batch.count
            $0.lastCommitMicros = micros
        }
        for item in batch { item.complete(nil) }
    }

    private func abort(_ batch: [Item], _ ctx: WriteContext, _ error: any Error) {
        if !ctx.db.isAutocommit { try? ctx.db.execute("ROLLBACK") }
        for item in batch { item.complete(StoreError.storage(error)) }
    }
}

/// Failures of the store itself, as opposed to a client's mistake.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case shuttingDown
    case storage(any Error)

    public var description: String {
        switch self {
        case .shuttingDown: return "the store is shutting down"
        case .storage(let e): return "storage failure: \(e)"
        }
    }
}
