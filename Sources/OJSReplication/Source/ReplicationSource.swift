import Foundation
import Logging
import OJSStore
import Synchronization

/// The primary's side of WAL shipping. After every commit that wrote something (on the
/// writer thread, before the writer checkpoints), it reads the transaction's frames from the
/// WAL, turns them into one checksum-chained record and appends it to the replication log;
/// streams wake up and send it. It also produces snapshots for bootstrapping replicas.
public final class ReplicationSource: Sendable {
    public let log: ReplicationLog
    public let databasePath: String
    /// The newest txid in the log: streams wait on it.
    public let logged = PositionBroadcaster()
    /// Replicas' reported positions and open streams.
    public let replicas = ReplicaRegistry()
    /// Prepared snapshot images and their transfers.
    public let snapshots: SnapshotImages
    private let snapshotCount = Mutex(0)
    /// Snapshot images made (a resumed transfer reuses one and is not counted).
    public var snapshotsServed: Int { snapshotCount.withLock { $0 } }
    func countSnapshot() { snapshotCount.withLock { $0 += 1 } }
    private let capture: Mutex<CaptureState>
    private let retired = Atomic<Bool>(false)

    /// Ends this source's streams: a failover node that stops leading calls it, so replicas
    /// still connected to it reconnect and find the new leader instead of taking heartbeats
    /// from a node that no longer commits.
    public func retire() {
        retired.store(true, ordering: .releasing)
        logged.publish(logged.value + 1)
    }

    /// Whether `retire` was called.
    public var isRetired: Bool { retired.load(ordering: .acquiring) }
    private let logger: Logger
    /// Splits transactions larger than one record into parts.
    let encoder: TransactionEncoder

    struct CaptureState {
        var pageSize: UInt32 = 4096
        var databasePages: UInt32 = 0
        var capturedRecords = 0
        var capturedTransactions = 0
        var multiPartTransactions = 0
        var capturedWALBytes = 0
        var shippedRecordBytes = 0
        var lastError: String?
        var failures = 0
    }

    public struct Stats: Sendable {
        public var generation: Generation
        public var firstTxid: TxID
        public var lastTxid: TxID
        public var logBytes: Int
        public var capturedRecords: Int
        /// Transactions captured, and how many of them needed several records.
        public var capturedTransactions: Int
        public var multiPartTransactions: Int
        /// Raw page bytes captured vs. compressed record bytes written: the compression ratio.
        public var capturedWALBytes: Int
        public var recordBytes: Int
        public var lastError: String?
        /// Commits whose capture failed (each started a new generation).
        public var captureFailures: Int
    }

    /// Opens (or creates) the log under `directory` and reconciles it with the database.
    /// Migrations applied by this open are the database's newest transaction (they take the
    /// next txid, see `Migrations.apply`): they are captured from the WAL and shipped like any
    /// other transaction, so replicas follow a schema upgrade without a bootstrap. Only when
    /// the log still does not end exactly at the database's position (a crash between commit
    /// and capture, a restored database) does a new generation start there, and replicas
    /// re-bootstrap from a snapshot.
    public static func attach(
        to store: Store,
        directory: URL,
        logger: Logger,
        segmentBytes: Int = ReplicationLog.defaultSegmentBytes,
        retentionBytes: Int = ReplicationLog.defaultRetentionBytes,
        retentionAgeMs: Int64 = ReplicationLog.defaultRetentionAgeMs,
        logSyncIntervalMs: Int64 = ReplicationLog.defaultSyncIntervalMs,
        snapshotLimits: SnapshotImages.Limits = .init(),
        recordPageBytes: Int = TransactionEncoder.defaultPartPageBytes
    ) async throws -> ReplicationSource {
        guard let writer = store.writer else { throw StoreError.readOnly }
        let log = try ReplicationLog(
            directory: directory,
            segmentBytes: segmentBytes,
            retentionBytes: retentionBytes,
            retentionAgeMs: retentionAgeMs,
            syncIntervalMs: logSyncIntervalMs
        )
        let snapshots = try SnapshotImages(directory: directory.appendingPathComponent("snapshots").path, limits: snapshotLimits)
        let source = ReplicationSource(
            log: log,
            databasePath: store.configuration.path,
            snapshots: snapshots,
            logger: logger,
            encoder: TransactionEncoder(partPageBytes: recordPageBytes)
        )
        let migrated = store.migrationsAppliedAtOpen
        let reader = ThreadConfined(WALReader(databasePath: store.configuration.path))
        let position = try await writer.exclusive { db -> Int64 in
            let position =
                try db.first("SELECT txid, committed_at FROM replication_position WHERE id = 1") {
                    (txid: $0.int(0), committedAt: $0.int(1))
                } ?? (txid: 0, committedAt: 0)
            if migrated, log.lastTxid &+ 1 == UInt64(position.txid) {
                // The migration's frames are still in the WAL (nothing checkpoints before this),
                // and it was the last transaction committed.
                source.captureMigration(txid: position.txid, committedAt: position.committedAt, reader: reader.value)
            }
            // Start from an empty WAL, so the reader's first frame is the next commit.
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            reader.value.reset()
            return position.txid
        }
        if log.lastTxid != UInt64(position) {
            let generation = Generation.random()
            logger.notice(
                "replication history restarts",
                metadata: [
                    "generation": .string(generation.text), "database_txid": .stringConvertible(position),
                    "log_txid": .stringConvertible(log.lastTxid),
                ]
            )
            try log.reset(generation: generation, lastTxid: TxID(position))
        }
        source.logged.reset(to: Int64(log.lastTxid))
        writer.addObserver { _, _, position in
            guard let position else { return }
            source.captureCommit(position, reader: reader.value)
        }
        return source
    }

    init(log: ReplicationLog, databasePath: String, snapshots: SnapshotImages, logger: Logger, encoder: TransactionEncoder = TransactionEncoder()) {
        self.log = log
        self.snapshots = snapshots
        self.databasePath = databasePath
        self.logger = logger
        self.encoder = encoder
        self.capture = Mutex(CaptureState())
    }

    /// Ships the migrations this open applied, the last transaction in the WAL. On failure the
    /// log simply does not reach the database's position and `attach` starts a new generation.
    private func captureMigration(txid: Int64, committedAt: Int64, reader: WALReader) {
        do {
            guard let transaction = try reader.readNewTransactionIndexes().last else { return }
            try ship(transaction, txid: txid, committedAt: committedAt, reader: reader)
            logger.notice("schema migration shipped to replicas", metadata: ["txid": .stringConvertible(txid)])
        } catch {
            logger.warning("schema migration could not be shipped; replicas will bootstrap", metadata: ["error": .string("\(error)")])
        }
    }

    /// Runs on the writer thread right after COMMIT.
    func captureCommit(_ position: Writer.Position, reader: WALReader) {
        do {
            let transactions = try reader.readNewTransactionIndexes()
            // Usually exactly one; more when earlier commits changed no row (`merged` says why).
            guard let transaction = WALTransactionIndex.merged(transactions) else {
                throw CaptureError.unexpectedTransactionCount(transactions.count, txid: position.txid)
            }
            try ship(transaction, txid: position.txid, committedAt: position.committedAt, reader: reader)
        } catch {
            // The history now has a hole: start a new generation at this position so no
            // replica ever applies a later record on top of a missing one.
            logger.error("replication capture failed", metadata: ["txid": .stringConvertible(position.txid), "error": .string("\(error)")])
            capture.withLock {
                $0.lastError = "\(error)"
                $0.failures += 1
            }
            reader.reset()
            do {
                try log.reset(generation: .random(), lastTxid: TxID(position.txid))
                logged.reset(to: position.txid)
            } catch {
                logger.critical("replication log reset failed", metadata: ["error": .string("\(error)")])
            }
        }
    }

    /// Encodes one committed transaction into one record or several (reading its pages from
    /// the WAL one part at a time), appends them to the log and wakes the streams.
    private func ship(_ transaction: WALTransactionIndex, txid: Int64, committedAt: Int64, reader: WALReader) throws {
        var records = 0
        var recordBytes = 0
        var pageBytes = 0
        try encoder.encode(
            generation: log.generation,
            txid: TxID(txid),
            commitTime: committedAt,
            pageSize: transaction.pageSize,
            databasePages: transaction.databasePages,
            pageNumbers: transaction.frameOffsets.keys.sorted(),
            previousChecksum: log.lastChecksum,
            image: { page in try reader.pageImage(page, atFrame: transaction.frameOffsets[page] ?? 0, pageSize: transaction.pageSize) },
            emit: { part in
                try log.append(part)
                records += 1
                recordBytes += part.bytes.count
                pageBytes += part.rawPayloadBytes
            }
        )
        replicas.recordTransaction(txid: TxID(txid), commitTime: committedAt, bytes: recordBytes)
        capture.withLock {
            $0.pageSize = transaction.pageSize
            $0.databasePages = transaction.databasePages
            $0.capturedRecords += records
            $0.capturedTransactions += 1
            if records > 1 { $0.multiPartTransactions += 1 }
            $0.capturedWALBytes += pageBytes
            $0.shippedRecordBytes += recordBytes
            $0.lastError = nil
        }
        logged.publish(txid)
    }

    enum CaptureError: Error, CustomStringConvertible {
        case unexpectedTransactionCount(Int, txid: Int64)
        var description: String {
            switch self {
            case .unexpectedTransactionCount(let n, let txid): return "expected a WAL transaction for txid \(txid), found \(n)"
            }
        }
    }

    public var stats: Stats {
        let s = log.stats
        return capture.withLock { c in
            Stats(
                generation: s.generation,
                firstTxid: s.firstTxid,
                lastTxid: s.lastTxid,
                logBytes: s.totalBytes,
                capturedRecords: c.capturedRecords,
                capturedTransactions: c.capturedTransactions,
                multiPartTransactions: c.multiPartTransactions,
                capturedWALBytes: c.capturedWALBytes,
                recordBytes: c.shippedRecordBytes,
                lastError: c.lastError,
                captureFailures: c.failures
            )
        }
    }

    /// A heartbeat carrying the latest txid and the primary's clock.
    public func heartbeat(now: Int64) throws -> EncodedRecord {
        let (pageSize, pages) = capture.withLock { ($0.pageSize, $0.databasePages) }
        let record = Record.heartbeat(generation: log.generation, lastTxid: log.lastTxid, now: now, pageSize: pageSize, databasePages: pages)
        return try RecordCodec.encode(record, previousChecksum: log.lastChecksum)
    }
}

/// A value that belongs to one thread (here the writer's) but is created elsewhere.
struct ThreadConfined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
