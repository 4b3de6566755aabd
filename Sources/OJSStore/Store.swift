import Foundation
import OJSCore

/// Settings that shape storage and job defaults.
public struct StoreConfiguration: Sendable {
    /// The database file (`<data-dir>/ojs.db`).
    public var path: String
    public var synchronous: SynchronousMode = .full
    public var readers: Int = 4
    /// Reservation length when neither the fetch nor the job sets one. Long, because workers
    /// of the official SDKs hold jobs across slow handlers; heartbeats extend it.
    public var defaultVisibilityTimeoutMs: Int64 = 1_800_000
    /// Execution timeout when the job sets none.
    public var defaultExecutionTimeoutMs: Int64 = 1_800_000
    /// How long events are kept. Each job writes about three events, so the event log is the
    /// fastest-growing table; an hour covers the dashboards and event consumers that read it
    /// live, and an operator keeps longer with `--event-retention-seconds`.
    public var eventRetentionMs: Int64 = StoreConfiguration.defaultEventRetentionMs
    public static let defaultEventRetentionMs: Int64 = 3_600_000
    /// Completed jobs are deleted this long after completing; nil keeps them forever.
    public var completedRetentionMs: Int64? = 24 * 3_600_000
    /// Discarded and cancelled jobs are deleted this long after they ended; nil keeps them
    /// forever. Dead letters are never purged: they leave only by replay or delete.
    public var discardedRetentionMs: Int64? = 7 * 24 * 3_600_000
    /// Rows of one kind a purge deletes per statement. A purge transaction repeats statements
    /// until `purgeTransactionBudgetMs` is spent, and the scheduler repeats transactions while
    /// rows remain, so a backlog drains at the delete speed, not one batch per tick.
    public var purgeBatchSize = 500
    /// Time one purge transaction may take before it commits and lets other requests in. A
    /// push waits behind at most one such transaction.
    public var purgeTransactionBudgetMs: Int64 = 50
    /// Rows a time-driven pass (promotion, expiry, reclaim, execution timeouts) or a bulk
    /// retry touches per writer transaction. 50,000 due jobs with 3.5 KB args promoted in one
    /// transaction held every push for 3.7 s and made a 64 MiB+ replication record; 500 rows
    /// of that size are about 2 MB of pages, a few tens of milliseconds.
    public var maintenanceChunkRows = 500
    /// Request payload bytes one group commit gathers at most (`Writer.defaultMaxBatchBytes`).
    public var maxBatchBytes = Writer.defaultMaxBatchBytes
    /// Workers not seen, queues without jobs, and rate-limit partitions unused for this long
    /// are deleted; nil keeps them forever. Without it the three tables only ever grow (a
    /// worker id per process start, a queue per tenant name ever used).
    public var idleExpiryMs: Int64? = 24 * 3_600_000
    /// Serverless mode: no ticker runs, so every fetch starts with the whole scheduler pass
    /// (cron included), and purges at most once a second.
    public var serverless = false
    /// How many error entries a job keeps.
    public var maxErrorHistory = 50
    /// A quota on the database file: writes past it fail as on a full disk (507), reads go on.
    public var maxDatabaseBytes: Int64?
    /// Seals push endpoints' secrets before they are stored (`SecretSealer`). nil: a random key
    /// for this process only, so no secret is ever stored in plaintext, but sealed ones do not
    /// open after a restart (fine for tests). `serve` always passes the key from
    /// `OJS_SECRET_KEY` or its key file.
    public var secretSealer: SecretSealer?

    public init(path: String) { self.path = path }
}

/// The job store: the single writer, the read pool, and every operation on jobs, queues,
/// workers, workflows and cron. Operations are in extensions, one file per concern.
public final class Store: Sendable {
    public let configuration: StoreConfiguration
    /// The single writer; nil on a read replica, whose database changes only by page shipping.
    public let writer: Writer?
    public let readers: ReadPool
    public let clock: Writer.Clock
    /// Counts committed changes to push bindings, so the push dispatcher can sleep while no
    /// queue is bound instead of looking for endpoints after every commit.
    public let pushBindings = PositionBroadcaster()
    /// Seals and opens push endpoints' secrets.
    public let sealer: SecretSealer

    public static let systemClock: Writer.Clock = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    public init(configuration: StoreConfiguration, clock: @escaping Writer.Clock = Store.systemClock) throws {
        self.configuration = configuration
        self.clock = clock
        self.sealer = try configuration.secretSealer ?? SecretSealer(key: SecretSealer.generateKey())
        let directory = URL(fileURLWithPath: configuration.path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.writer = try Writer(
            path: configuration.path,
            synchronous: configuration.synchronous,
            maxBatchBytes: configuration.maxBatchBytes,
            maxDatabaseBytes: configuration.maxDatabaseBytes,
            clock: clock
        )
        self.readers = try ReadPool(path: configuration.path, size: max(1, configuration.readers))
    }

    /// A read-only store over a replica's copy: reads pass through `gate`, writes are refused.
    public init(replicaConfiguration configuration: StoreConfiguration, gate: any ReadGate, clock: @escaping Writer.Clock = Store.systemClock) throws
    {
        self.configuration = configuration
        self.clock = clock
        self.sealer = try configuration.secretSealer ?? SecretSealer(key: SecretSealer.generateKey())
        self.writer = nil
        self.readers = try ReadPool(path: configuration.path, size: max(1, configuration.readers), gate: gate)
    }

    /// Whether opening the store applied schema migrations (a new or upgraded database).
    public var migrationsAppliedAtOpen: Bool { writer?.appliedMigrations.isEmpty == false }

    public func close() {
        writer?.shutdown()
        readers.shutdown()
    }

    /// Runs a write; client mistakes come back as `OJSError`, storage trouble as `StoreError`.
    /// `bytes`: roughly what the request writes, so a group commit stays bounded in bytes.
    func write<T: Sendable>(bytes: Int = 0, _ body: @escaping @Sendable (WriteContext) throws -> T) async throws -> T {
        guard let writer else { throw StoreError.readOnly }
        return try await writer.write(bytes: bytes, body)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await readers.read(body)
    }
}
