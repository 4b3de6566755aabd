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
    private let logger: Logger

    struct CaptureState {
        var pageSize: UInt32 = 4096
        var databasePages: UInt32 = 0
        var capturedRecords = 0
        var capturedWALBytes = 0
        var shippedRecordBytes = 0
        var lastError: String?
        var failures = 0
    }

    public struct Stats: Sendable {
        public var generation: Generation
        public var firstTxid: UInt64
        public var lastTxid: UInt64
        public var logBytes: Int
        public var capturedRecords: Int
        /// Raw page bytes captured vs. compressed record bytes written: the compression ratio.
        public var capturedWALBytes: Int
        public var recordBytes: Int
        public var lastError: String?
        /// Commits whose capture failed (each started a new generation).
        public var captureFailures: Int
    }

    /// Opens (or creates) the log under `directory` and reconciles it with the database:
    /// if the log does not end exactly at the database's position (a crash between commit
    /// and capture, a restored database, a schema upgrade), a new generation starts there and
    /// replicas re-bootstrap from a snapshot.
    public static func attach(
        to store: Store, directory: URL, logger: Logger, segmentBytes: Int = ReplicationLog.defaultSegmentBytes,
        retentionBytes: Int = ReplicationLog.defaultRetentionBytes, retentionAgeMs: Int64 = ReplicationLog.defaultRetentionAgeMs,
        logSyncIntervalMs: Int64 = ReplicationLog.defaultSyncIntervalMs, snapshotLimits: SnapshotImages.Limits = .init()
    ) async throws -> ReplicationSource {
        guard let writer = store.writer else { throw StoreError.readOnly }
        let log = try ReplicationLog(
            directory: directory, segmentBytes: segmentBytes, retentionBytes: retentionBytes, retentionAgeMs: retentionAgeMs,
            syncIntervalMs: logSyncIntervalMs)
        let snapshots = try SnapshotImages(directory: directory.appendingPathComponent("snapshots").path, limits: snapshotLimits)
        let source = ReplicationSource(log: log, databasePath: store.configuration.path, snapshots: snapshots, logger: logger)
        let position = try await writer.exclusive { db -> Int64 in
            // Start from an empty WAL, so the reader's first frame is the next commit.
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return try db.scalar("SELECT txid FROM replication_position WHERE id = 1")
        }
        if log.lastTxid != UInt64(position) || store.migrationsAppliedAtOpen {
            let generation = Generation.random()
            logger.notice(
                "replication history restarts",
                metadata: [
                    "generation": .string(generation.text), "database_txid": .stringConvertible(position),
                    "log_txid": .stringConvertible(log.lastTxid),
                ])
            try log.reset(generation: generation, lastTxid: UInt64(position))
        }
        source.logged.reset(to: Int64(log.lastTxid))
        let reader = ThreadConfined(WALReader(databasePath: store.configuration.path))
        writer.addObserver { _, _, position in
            guard let position else { return }
            source.captureCommit(position, reader: reader.value)
        }
        return source
    }

    init(log: ReplicationLog, databasePath: String, snapshots: SnapshotImages, logger: Logger) {
        self.log = log
        self.snapshots = snapshots
        self.databasePath = databasePath
        self.logger = logger
        self.capture = Mutex(CaptureState())
    }

    /// Runs on the writer thread right after COMMIT.
    func captureCommit(_ position: Writer.Position, reader: WALReader) {
        do {
            let transactions = try reader.readNewTransactions()
            guard let transaction = transactions.last, transactions.count == 1 else {
                throw CaptureError.unexpectedTransactionCount(transactions.count, txid: position.txid)
            }
            let pages = transaction.pages.keys.sorted().map { Page(number: $0, data: transaction.pages[$0] ?? []) }
            let record = Record.transaction(
                generation: log.generation, txid: UInt64(position.txid), commitTime: position.committedAt,
                pageSize: transaction.pageSize, databasePages: transaction.databasePages, pages: pages)
            let encoded = try RecordCodec.encode(record, previousChecksum: log.lastChecksum)
            try log.append(encoded)
            replicas.recordTransaction(txid: UInt64(position.txid), commitTime: position.committedAt, bytes: encoded.bytes.count)
            capture.withLock {
                $0.pageSize = transaction.pageSize
                $0.databasePages = transaction.databasePages
                $0.capturedRecords += 1
                $0.capturedWALBytes += encoded.rawPayloadBytes
                $0.shippedRecordBytes += encoded.bytes.count
                $0.lastError = nil
            }
            logged.publish(position.txid)
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
                try log.reset(generation: .random(), lastTxid: UInt64(position.txid))
                logged.reset(to: position.txid)
            } catch {
                logger.critical("replication log reset failed", metadata: ["error": .string("\(error)")])
            }
        }
    }

    enum CaptureError: Error, CustomStringConvertible {
        case unexpectedTransactionCount(Int, txid: Int64)
        var description: String {
            switch self {
            case .unexpectedTransactionCount(let n, let txid): return "expected one WAL transaction for txid \(txid), found \(n)"
            }
        }
    }

    public var stats: Stats {
        let s = log.stats
        return capture.withLock { c in
            Stats(
                generation: s.generation, firstTxid: s.firstTxid, lastTxid: s.lastTxid, logBytes: s.totalBytes,
                capturedRecords: c.capturedRecords, capturedWALBytes: c.capturedWALBytes, recordBytes: c.shippedRecordBytes,
                lastError: c.lastError, captureFailures: c.failures)
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
