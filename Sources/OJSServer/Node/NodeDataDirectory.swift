import Foundation
import OJSReplication
import OJSStore

/// A failover node's data directory, which serves both roles:
///
///     ojs.db          the database (WAL mode as primary, rollback journal as replica)
///     replication/    the primary's replication log, or a replica's relay log of the same records
///     position.json   present only while the copy is a replica's: where it stands in the history
///     epochs          one line per term this node led: epoch, first txid, start time
///
/// What the directory holds decides how a node starts: nothing (a new node), a primary's
/// database, or a replica's copy.
public struct NodeDataDirectory: Sendable {
    public let url: URL

    public static let databaseName = CopyPromotion.primaryDatabaseName
    static let positionName = "position.json"
    static let logName = ReplicaApplier.relayLogDirectoryName
    static let epochsName = "epochs"

    public init(url: URL) { self.url = url }

    public var databasePath: String { url.appendingPathComponent(Self.databaseName).path }
    public var logDirectory: URL { url.appendingPathComponent(Self.logName) }
    var positionURL: URL { url.appendingPathComponent(Self.positionName) }

    public enum Shape: Sendable, Equatable {
        /// No database yet.
        case empty
        /// A primary's database (no replica position).
        case primary
        /// A replica's copy with its position.
        case replica
    }

    public var shape: Shape {
        guard FileManager.default.fileExists(atPath: databasePath) else { return .empty }
        return FileManager.default.fileExists(atPath: positionURL.path) ? .replica : .primary
    }

    /// Where the copy on disk stands, read without opening it for writing: the replica's saved
    /// position, or a primary database's last txid under its log's generation. `.empty` when
    /// there is nothing usable.
    public func position() -> CopyPosition {
        switch shape {
        case .empty:
            return .empty
        case .replica:
            guard let saved = ReplicaPosition.load(from: positionURL) else { return .empty }
            return CopyPosition(generation: saved.generation.text, txid: saved.txid, checksum: saved.checksum)
        case .primary:
            let txid: Int64
            do {
                let db = try Connection(path: databasePath, options: .init(readOnly: true))
                txid = try db.first("SELECT txid FROM replication_position WHERE id = 1") { $0.int(0) } ?? 0
            } catch {
                return .empty
            }
            let generation = ReplicationLog.storedGeneration(in: logDirectory)?.text
            return CopyPosition(generation: generation, txid: UInt64(max(0, txid)), checksum: 0)
        }
    }

    /// Appends a term this node starts leading: the epoch, the first txid it will commit, and
    /// when. Operators read it to line a node's history up with the cluster's.
    func recordEpoch(_ epoch: Int64, firstTxid: Int64, now: Int64) {
        let line = "\(epoch) \(firstTxid) \(now)\n"
        let path = url.appendingPathComponent(Self.epochsName).path
        guard
            let handle = FileHandle(forWritingAtPath: path)
                ?? {
                    FileManager.default.createFile(atPath: path, contents: nil)
                    return FileHandle(forWritingAtPath: path)
                }()
        else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data(line.utf8))
        try? handle.synchronize()
    }
}
