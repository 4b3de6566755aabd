import Foundation
import Logging
import XCTest

@testable import OJSReplication
@testable import OJSStore

/// A schema migration on the primary is one more transaction of its history: it is captured
/// from the WAL and shipped, the generation stays, and a replica applies it like any other
/// record — including connections that were open before, which must see the new schema.
final class MigrationReplicationTests: XCTestCase {
    func testANewMigrationShipsAsATransactionAndAWarmReplicaConnectionSeesIt() async throws {
        let root = RecordFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let primaryPath = root.appendingPathComponent("primary/ojs.db").path
        let logDirectory = root.appendingPathComponent("primary/replication")
        let replicaDirectory = root.appendingPathComponent("replica")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("primary"), withIntermediateDirectories: true)

        // The primary as an older release left it: every migration but the newest, and a log
        // that ends at the database's position.
        let older = Array(Migrations.all.dropLast())
        var oldTxid: Int64 = 0
        do {
            let db = try Connection(path: primaryPath)
            try Migrations.apply(to: db, now: 1, migrations: older)
            oldTxid = try db.scalar("SELECT txid FROM replication_position WHERE id = 1")
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let generation = Generation.random()
        do {
            let log = try ReplicationLog(directory: logDirectory)
            try log.reset(generation: generation, lastTxid: UInt64(oldTxid))
        }

        // A replica holding a copy at that position, with a reader connection already open.
        let image = try [UInt8](Data(contentsOf: URL(fileURLWithPath: primaryPath)))
        try FileManager.default.createDirectory(at: replicaDirectory, withIntermediateDirectories: true)
        let replicaPath = replicaDirectory.appendingPathComponent("replica.db").path
        let imageFile = replicaDirectory.appendingPathComponent("image.download")
        try Data(image).write(to: imageFile)
        try PageApplier.installSnapshot(fileAt: imageFile.path, at: replicaPath)
        try ReplicaPosition(generation: generation, txid: UInt64(oldTxid), checksum: 0)
            .save(to: replicaDirectory.appendingPathComponent("position.json"))
        let applier = try ReplicaApplier(dataDirectory: replicaDirectory)
        let reader = try Connection(path: replicaPath, options: .init(readOnly: true))
        XCTAssertEqual(try reader.scalar("SELECT count(*) FROM d1_migrations"), Int64(older.count))
        let schemaBefore = try reader.scalar("PRAGMA schema_version")

        // The upgraded primary opens: the newest migration applies and is shipped.
        let store = try Store(configuration: StoreConfiguration(path: primaryPath))
        defer { store.close() }
        XCTAssertTrue(store.migrationsAppliedAtOpen)
        let source = try await ReplicationSource.attach(to: store, directory: logDirectory, logger: Logger(label: "test"))
        XCTAssertEqual(source.log.generation, generation, "no new generation for a migration")
        XCTAssertEqual(source.log.lastTxid, UInt64(oldTxid) + 1, "the migration took the next txid")

        var decoder = RecordStreamDecoder(generation: generation, lastTxid: UInt64(oldTxid), lastChecksum: 0)
        for record in try source.log.records(after: UInt64(oldTxid), maxBytes: 1 << 30) { decoder.feed(record.bytes) }
        let records = try decoder.drain()
        XCTAssertFalse(records.isEmpty)
        try applier.apply(records)

        XCTAssertEqual(try reader.scalar("SELECT count(*) FROM d1_migrations"), Int64(Migrations.all.count), "the warm connection sees the new rows")
        XCTAssertNotEqual(try reader.scalar("PRAGMA schema_version"), schemaBefore, "and the new schema")
        XCTAssertEqual(try reader.scalar("SELECT txid FROM replication_position WHERE id = 1"), oldTxid + 1)
        XCTAssertEqual(try reader.first("PRAGMA integrity_check") { $0.text(0) }, "ok")
    }
}
