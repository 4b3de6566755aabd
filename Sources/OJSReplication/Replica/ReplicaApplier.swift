import Foundation
import OJSCore

/// Owns a replica's copy on disk: installs snapshots, applies batches of records, and keeps
/// the position. Each batch is first written to a spool file and fsynced, then its pages are
/// written under the replica lock, then the position is saved and the spool cleared. A crash
/// at any point is repaired on open by re-applying the spool: page images are idempotent,
/// so the copy always ends at a whole-batch boundary.
///
/// Used by one task at a time (the tailer); the lock is what readers share with it.
public final class ReplicaApplier: @unchecked Sendable {
    public let dataDirectory: URL
    public let databasePath: String
    public let lock = ReplicaLock()
    public private(set) var position: ReplicaPosition?
    private var applier: PageApplier?

    var positionURL: URL { dataDirectory.appendingPathComponent("position.json") }
    var spoolURL: URL { dataDirectory.appendingPathComponent("apply.spool") }

    public init(dataDirectory: URL) throws {
        self.dataDirectory = dataDirectory
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        self.databasePath = dataDirectory.appendingPathComponent("replica.db").path
        guard FileManager.default.fileExists(atPath: databasePath), let saved = ReplicaPosition.load(from: positionURL) else { return }
        applier = try PageApplier(path: databasePath)
        position = saved
        PartSpool.removeLeftovers(in: dataDirectory.path)
        try recoverSpool()
    }

    /// Whether there is a copy to serve reads from.
    public var hasCopy: Bool { applier != nil && position != nil }

    /// Replaces the copy with a snapshot. An existing file is rewritten in place (as one big
    /// batch) so open read connections keep working and see the new state atomically.
    public func install(_ snapshot: Snapshot) throws {
        if let applier {
            let pages = stride(from: 0, to: snapshot.image.count, by: Int(snapshot.pageSize)).map { offset in
                (UInt32(offset / Int(snapshot.pageSize) + 1), Array(snapshot.image[offset..<(offset + Int(snapshot.pageSize))]))
            }
            let whole = WALTransaction(pages: Dictionary(uniqueKeysWithValues: pages), databasePages: snapshot.pageCount, pageSize: snapshot.pageSize)
            try applier.apply([whole], lock: lock)
        } else {
            try PageApplier.installSnapshot(image: snapshot.image, at: databasePath)
            applier = try PageApplier(path: databasePath)
        }
        let next = ReplicaPosition(generation: snapshot.generation, txid: snapshot.txid, checksum: snapshot.checksum)
        try next.save(to: positionURL)
        position = next
    }

    /// Applies verified, consecutive transaction records as one batch.
    public func apply(_ records: [StreamedRecord]) throws {
        guard !records.isEmpty, position != nil else { return }
        try SegmentIO.writeAtomically(records.flatMap(\.encoded.bytes), to: spoolURL.path, directory: dataDirectory.path)
        try applyAndAdvance(records)
        try? FileManager.default.removeItem(at: spoolURL)
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
        try SegmentIO.renameFile(spooled.path, spoolURL.path)
        try SegmentIO.syncDirectory(dataDirectory.path)
        try applySpoolFile()
        try? FileManager.default.removeItem(at: spoolURL)
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
    private func applySpoolFile() throws {
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
            databasePages: record.databasePages, pageSize: record.pageSize)
    }
}
