import Foundation
import OJSCore
import Synchronization

/// Owns a replica's copy on disk: installs snapshots, applies batches of records, and keeps
/// the position and the relay log. Each batch is first appended to the relay log
/// (`<dataDirectory>/replication`, byte for byte the primary's records) and fsynced, then its
/// pages are written under the replica lock, then the position is saved. A crash at any point
/// is repaired on open by re-applying what the relay log holds past the position: page images
/// are idempotent, so the copy always ends at a whole-batch boundary, and the relay log ends
/// exactly at the position (`reconcileRelayLog`). The relay log is what lets this copy become
/// a primary that other replicas follow without a snapshot (`CopyPromotion`).
///
/// Used by one task at a time (the tailer); the lock is what readers share with it, and
/// `hasCopy` is the one thing request handlers on other threads ask (`docs/concurrency.md`).
public final class ReplicaApplier: @unchecked Sendable {
    public let dataDirectory: URL
    public let databasePath: String
    public let lock = ReplicaLock()
    /// The records this copy applied, as the primary logged them (see the type's comment).
    public let relayLog: ReplicationLog
    /// The tailer's alone: read and written by the task that applies.
    public private(set) var position: ReplicaPosition? {
        didSet { copyReady.store(applier != nil && position != nil, ordering: .releasing) }
    }
    private var applier: PageApplier?
    /// `hasCopy` for other threads: an atomic, because `position` holds strings that a
    /// concurrent reader must not load while the tailer replaces them.
    private let copyReady = Atomic<Bool>(false)

    var positionURL: URL { dataDirectory.appendingPathComponent("position.json") }
    var spoolURL: URL { dataDirectory.appendingPathComponent("apply.spool") }

    /// The copy's file name when the caller names none; a failover node names `ojs.db` so the
    /// file keeps its name in both roles.
    public static let defaultDatabaseName = "replica.db"
    /// The relay log's directory inside the data directory: where a primary keeps its log, so
    /// a promoted copy's primary continues it.
    public static let relayLogDirectoryName = "replication"
    /// Records are fsynced explicitly before each apply (`apply`), so the log's own batching
    /// interval only matters for records appended but not yet applied; a minute keeps it from
    /// adding fsyncs of its own.
    static let relaySyncIntervalMs: Int64 = 60_000
    /// Bytes read from the relay log per re-applied batch on recovery: 8 MiB bounds memory
    /// while keeping the fsyncs of thousands of small transactions to a few.
    static let recoveryBatchBytes = 8 << 20

    public init(
        dataDirectory: URL,
        databaseName: String = defaultDatabaseName,
        relayLog limits: RelayLogLimits = RelayLogLimits()
    ) throws {
        self.dataDirectory = dataDirectory
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        self.databasePath = dataDirectory.appendingPathComponent(databaseName).path
        self.relayLog = try ReplicationLog(
            directory: dataDirectory.appendingPathComponent(Self.relayLogDirectoryName),
            segmentBytes: limits.segmentBytes,
            retentionBytes: limits.retentionBytes,
            retentionAgeMs: limits.retentionAgeMs,
            syncIntervalMs: Self.relaySyncIntervalMs
        )
        guard FileManager.default.fileExists(atPath: databasePath), let saved = ReplicaPosition.load(from: positionURL) else { return }
        applier = try PageApplier(path: databasePath)
        position = saved
        // An initializer's own assignments skip `didSet`.
        copyReady.store(true, ordering: .releasing)
        PartSpool.removeLeftovers(in: dataDirectory.path)
        try recoverSpool()
        try reconcileRelayLog()
        // A download left by a bootstrap that was overtaken by this copy is stale; without a
        // copy it is kept, and the next bootstrap resumes it.
        SnapshotDownload.discardFiles(in: dataDirectory.path)
    }

    /// Whether there is a copy to serve reads from.
    public var hasCopy: Bool { copyReady.load(ordering: .acquiring) }

    /// Replaces the copy with the verified snapshot image at `imagePath` (consumed) taken at
    /// `header`'s position. Without a copy, the image is renamed into place. Over an existing
    /// copy, the file is rewritten in place under the write lock, so open read connections
    /// keep working and see the new state only once it is whole; the old position is dropped
    /// first, so a crash halfway never leaves a position naming a half-written copy.
    public func install(imageAt imagePath: String, header: SnapshotHeader) throws {
        if let applier {
            let growth = spaceToInstall(imageLength: header.imageLength)
            // Checked before the copy is touched: a disk that fills halfway would leave it
            // half rewritten.
            if let free = FreeSpace.bytes(at: dataDirectory.path), free < growth {
                throw SnapshotError.diskFull(path: dataDirectory.path, needed: growth, available: free)
            }
            discardPosition()
            try applier.replaceContents(withImageAt: imagePath, lock: lock)
            try SegmentIO.removeFile(imagePath)
        } else {
            try PageApplier.installSnapshot(fileAt: imagePath, at: databasePath)
            applier = try PageApplier(path: databasePath)
        }
        let next = ReplicaPosition(generation: header.generation, txid: header.txid, checksum: header.checksum)
        try next.save(to: positionURL)
        position = next
        // A crash before this leaves a relay log that does not end at the position, and the
        // next open resets it the same way.
        try relayLog.reset(generation: header.generation, lastTxid: header.txid, checksum: header.checksum)
    }

    /// Disk space installing an image of `imageLength` bytes needs besides the download: the
    /// growth of a copy rewritten in place (a new file is renamed and needs none).
    public func spaceToInstall(imageLength: UInt64) -> UInt64 {
        guard applier != nil else { return 0 }
        return imageLength > fileSize ? imageLength - fileSize : 0
    }

    /// Bytes of the copy on disk (0 when there is none).
    var fileSize: UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: databasePath))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Applies verified, consecutive transaction records as one batch: relay log first
    /// (fsynced), then the pages, then the position. Records at or before the position (applied
    /// from the relay log after an earlier failure) are skipped.
    public func apply(_ records: [StreamedRecord]) throws {
        guard position != nil else { return }
        try reconcileIfNeeded()
        guard let current = position else { return }
        let fresh = records.drop { $0.record.txid <= current.txid }
        guard let last = fresh.last else { return }
        for streamed in fresh { try relayLog.append(streamed.encoded) }
        try relayLog.sync()
        try applyAndAdvance(Array(fresh))
        trimRelayLog(now: last.record.commitTime)
    }

    /// Writes the pages, then saves the position after the last record.
    private func applyAndAdvance(_ records: [StreamedRecord]) throws {
        guard let applier, var next = position, let last = records.last else { return }
        try applier.apply(records.map { Self.transaction($0.record) }, lock: lock)
        next.txid = last.record.txid
        next.checksum = last.encoded.checksum
        try next.save(to: positionURL)
        position = next
    }

    /// Applies a transaction received in several records and spooled to disk (see
    /// `PartSpool`): the file becomes the apply spool, its records are read back and written
    /// one at a time under one lock and one `BEGIN EXCLUSIVE`, then the position is saved.
    /// Memory holds one record, whatever the transaction's size.
    func applySpooled(_ spooled: SpooledTransaction) throws {
        guard position != nil else { return }
        try reconcileIfNeeded()
        guard let current = position, spooled.txid > current.txid else {
            try? SegmentIO.removeFile(spooled.path)
            return
        }
        // Its parts go to the relay log as the primary logged them, one record in memory at a time.
        try SpoolFile.forEachStreamed(spooled.path, from: current) { try relayLog.append($0.encoded) }
        try relayLog.sync()
        try SegmentIO.renameFile(spooled.path, spoolURL.path)
        try SegmentIO.syncDirectory(dataDirectory.path)
        try applySpoolFile()
        try? FileManager.default.removeItem(at: spoolURL)
        trimRelayLog(now: spooled.commitTime)
    }

    /// Re-applies a batch that was spooled but maybe not (fully) written before a crash.
    private func recoverSpool() throws {
        guard FileManager.default.fileExists(atPath: spoolURL.path) else { return }
        try applySpoolFile()
        try? FileManager.default.removeItem(at: spoolURL)
    }

    /// Applies the whole transactions in the spool file that continue the saved position, as
    /// one batch, reading it twice: first to verify it and find where its last whole
    /// transaction ends (nothing is written for a spool that does not continue the position,
    /// e.g. one whose position was already saved), then to write the pages.
    func applySpoolFile() throws {
        guard let applier, var next = position else { return }
        guard let end = try SpoolFile.scan(spoolURL.path, from: next) else { return }
        try applier.applyStreaming(pageSize: end.pageSize, lock: lock) { sink in
            try SpoolFile.forEachRecord(spoolURL.path, from: next, through: end.txid) { record in
                for page in record.pages { try sink.write(page) }
            }
            return end.databasePages
        }
        next.txid = end.txid
        next.checksum = end.checksum
        try next.save(to: positionURL)
        position = next
    }

    /// Forgets the copy's history, so the next bootstrap starts over.
    public func discardPosition() {
        position = nil
        try? FileManager.default.removeItem(at: positionURL)
    }

    static func transaction(_ record: Record) -> WALTransaction {
        WALTransaction(
            pages: Dictionary(record.pages.map { ($0.number, $0.data) }, uniquingKeysWith: { _, last in last }),
            databasePages: record.databasePages,
            pageSize: record.pageSize
        )
    }
}
