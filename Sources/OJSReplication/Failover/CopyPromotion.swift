import Foundation
import OJSStore

/// Changes the role of a stopped node's data directory without copying the database:
///
/// - `promote`: a replica's copy becomes a primary's. The relay log (`ReplicaApplier`) holds
///   the records the copy applied, in the old primary's generation and chain, so
///   `ReplicationSource.attach` on the result continues that generation: the next commit gets
///   txid N + 1 chaining from the copy's checksum, and replicas that followed the old primary
///   follow the new one without a snapshot.
/// - `demote`: a primary's database becomes a replica's copy positioned at the end of its log,
///   which stays as the relay log. If that copy holds transactions the new primary lacks, the
///   stream request's checksum makes the primary refuse it (409) and it bootstraps.
///
/// Both run on a directory no server is using: they take the replication log's lock
/// (`ReplicationLog`), so a running server makes them fail with `.inUse`.
public enum CopyPromotion {
    /// The primary's database file name (`ojs-edge serve` opens `<data-dir>/ojs.db`).
    public static let primaryDatabaseName = "ojs.db"

    /// Where a promoted copy, or a demoted database, stands.
    public struct Result: Sendable, Equatable {
        public var generation: Generation
        public var txid: TxID
        public var checksum: UInt32
        public var databasePath: String
    }

    /// Makes the stopped replica's data directory a primary's: recovers the copy (spool, relay
    /// log), checks that `position.json`, the relay log's end and the database's
    /// `replication_position` name the same transaction, switches the file to WAL mode, leaves
    /// it as `<dataDirectory>/ojs.db` and removes the replica's position and spools. Safe to run
    /// again after an interruption (a file already renamed is found under its new name).
    @discardableResult
    public static func promote(
        dataDirectory: URL,
        databaseName: String = ReplicaApplier.defaultDatabaseName
    ) throws(CopyPromotionError) -> Result {
        let directory = dataDirectory.path
        let target = dataDirectory.appendingPathComponent(primaryDatabaseName).path
        var name = databaseName
        let files = FileManager.default
        if name != primaryDatabaseName, files.fileExists(atPath: target) {
            // Renamed by an interrupted run, or a primary's file that must not be overwritten.
            guard !files.fileExists(atPath: dataDirectory.appendingPathComponent(name).path) else {
                throw .targetExists(path: target)
            }
            name = primaryDatabaseName
        }
        guard files.fileExists(atPath: dataDirectory.appendingPathComponent(name).path) else {
            throw .noCopy("\(dataDirectory.appendingPathComponent(name).path) does not exist")
        }
        let log: ReplicationLog
        let position: ReplicaPosition
        let source: String
        do {
            let applier = try ReplicaApplier(dataDirectory: dataDirectory, databaseName: name)
            guard let saved = applier.position else {
                throw CopyPromotionError.noCopy("\(applier.positionURL.path) is missing or unreadable")
            }
            log = applier.relayLog
            position = saved
            source = applier.databasePath
        } catch let error as CopyPromotionError {
            throw error
        } catch ReplicationLogError.inUse(let lock) {
            throw .inUse("another process holds \(lock)")
        } catch {
            throw .io("cannot open the copy in \(directory): \(error)")
        }
        // Holding `log` keeps its lock until the end.
        let end = log.stats
        guard end.generation == position.generation, end.lastTxid == position.txid, end.lastChecksum == position.checksum else {
            throw .disagree(
                "position.json is \(position.generation.text) txid \(position.txid) checksum \(position.checksum), the relay log ends at "
                    + "\(end.generation.text) txid \(end.lastTxid) checksum \(end.lastChecksum)"
            )
        }
        do {
            // Opening read-write in the primary's mode switches the file to WAL (persistent).
            var options = Connection.Options()
            options.create = false
            let connection = try Connection(path: source, options: options)
            let txid = try databaseTxid(connection)
            guard txid == position.txid else {
                throw CopyPromotionError.disagree("position.json is at txid \(position.txid), the database's replication_position at \(txid)")
            }
            guard try connection.text("PRAGMA journal_mode")?.lowercased() == "wal" else {
                throw CopyPromotionError.io("\(source) did not switch to WAL mode")
            }
        } catch let error as CopyPromotionError {
            throw error
        } catch {
            throw .io("cannot switch \(source) to WAL mode: \(error)")
        }
        do {
            if source != target { try SegmentIO.renameFile(source, target) }
            try SegmentIO.syncDirectory(directory)
            // Last: until the position is gone, running promote again finds the copy.
            for leftover in ["apply.spool", "position.json"] {
                let path = dataDirectory.appendingPathComponent(leftover).path
                if files.fileExists(atPath: path) { try SegmentIO.removeFile(path) }
            }
            PartSpool.removeLeftovers(in: directory)
            SnapshotDownload.discardFiles(in: directory)
            try SegmentIO.syncDirectory(directory)
        } catch {
            throw .io("cannot finish promoting \(directory): \(error)")
        }
        withExtendedLifetime(log) {}
        return Result(generation: position.generation, txid: position.txid, checksum: position.checksum, databasePath: target)
    }

    /// Makes the stopped primary's data directory a replica's: checkpoints the WAL into the
    /// file (TRUNCATE), switches it to journal_mode=DELETE, renames `ojs.db` to
    /// `databaseName`, and writes `position.json` from the log when the log ends at the
    /// database's position (returned). Otherwise it writes no position (returns nil): the node
    /// bootstraps from a snapshot, and the log restarts there.
    @discardableResult
    public static func demote(
        dataDirectory: URL,
        databaseName: String = ReplicaApplier.defaultDatabaseName
    ) throws(CopyPromotionError) -> Result? {
        let directory = dataDirectory.path
        let source = dataDirectory.appendingPathComponent(primaryDatabaseName).path
        let target = dataDirectory.appendingPathComponent(databaseName).path
        let files = FileManager.default
        guard files.fileExists(atPath: source) else { throw .noCopy("\(source) does not exist") }
        if source != target, files.fileExists(atPath: target) { throw .targetExists(path: target) }
        let log: ReplicationLog
        do {
            log = try ReplicationLog(directory: dataDirectory.appendingPathComponent(ReplicaApplier.relayLogDirectoryName))
        } catch ReplicationLogError.inUse(let lock) {
            throw .inUse("another process holds \(lock)")
        } catch {
            throw .io("cannot open the replication log in \(directory): \(error)")
        }
        let txid: TxID
        do {
            var options = Connection.Options()
            options.create = false
            options.journal = .rollback(mode: "DELETE")
            // Switching out of WAL needs the WAL folded in first; SQLite does both here.
            let connection = try Connection(path: source, options: options)
            txid = try databaseTxid(connection)
        } catch {
            throw .io("cannot switch \(source) out of WAL mode: \(error)")
        }
        let positionURL = dataDirectory.appendingPathComponent("position.json")
        do {
            if source != target { try SegmentIO.renameFile(source, target) }
            try? files.removeItem(atPath: dataDirectory.appendingPathComponent(ReplicaApplier.relayLogDirectoryName + "/snapshots").path)
            let end = log.stats
            guard end.lastTxid == txid else {
                if files.fileExists(atPath: positionURL.path) { try SegmentIO.removeFile(positionURL.path) }
                try SegmentIO.syncDirectory(directory)
                return nil
            }
            try ReplicaPosition(generation: end.generation, txid: end.lastTxid, checksum: end.lastChecksum).save(to: positionURL)
            try SegmentIO.syncDirectory(directory)
            return Result(generation: end.generation, txid: end.lastTxid, checksum: end.lastChecksum, databasePath: target)
        } catch {
            throw .io("cannot finish demoting \(directory): \(error)")
        }
    }

    /// The txid of the database's newest transaction (0 before the first).
    static func databaseTxid(_ connection: Connection) throws -> TxID {
        let txid = try connection.first("SELECT txid FROM replication_position WHERE id = 1") { $0.int(0) } ?? 0
        guard txid >= 0 else { throw CopyPromotionError.disagree("replication_position holds a negative txid \(txid)") }
        return TxID(txid)
    }
}
