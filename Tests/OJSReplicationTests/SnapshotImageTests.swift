import Foundation
import XCTest

@testable import OJSReplication

/// The primary's image (backup API into a file) is the database page for page, with the txid
/// of the same state; installing it — fresh, or over a copy that readers have open — gives a
/// replica equal to the primary.
final class SnapshotImageTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "snapshot-image-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A WAL primary with the position row, several schema changes (cookie > 1), free pages,
    /// and part of its content still in the WAL only.
    func makePrimary(rows: Int, txid: Int) throws -> TestDB {
        // Not TestDB.primary: without auto_vacuum, deletes leave free pages.
        let db = try TestDB(path: directory + "/primary.db")
        try db.exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0")
        try db.exec(
            """
            CREATE TABLE replication_position(id INTEGER PRIMARY KEY, txid INTEGER NOT NULL, committed_at INTEGER NOT NULL);
            INSERT INTO replication_position VALUES (1, 0, 0);
            CREATE TABLE items(id INTEGER PRIMARY KEY, payload BLOB);
            CREATE TABLE scratch(x);
            CREATE INDEX items_payload ON items(length(payload));
            """
        )
        try db.exec(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < \(rows)) INSERT INTO items(payload) SELECT randomblob(300 + n % 900) FROM s"
        )
        try db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        try db.exec("DELETE FROM items WHERE id % 5 = 0; DROP TABLE scratch; UPDATE replication_position SET txid = \(txid)")
        return db
    }

    func testTheImageIsThePrimaryPageForPageWithItsTxid() throws {
        let primary = try makePrimary(rows: 3000, txid: 17)
        let copy = try SnapshotImage.copyDatabase(from: primary.path, to: directory + "/image")
        XCTAssertEqual(copy.txid, 17)
        let expected = try primary.serialize()
        let image = try fileBytes(directory + "/image")
        XCTAssertEqual(copy.length, UInt64(image.count))
        XCTAssertEqual(copy.crc, image.withUnsafeBytes { Zlib.crc32(0, $0) })
        XCTAssertEqual(image.count, expected.count)
        XCTAssertGreaterThan(try primary.int("PRAGMA freelist_count"), 0, "free pages are part of the image too")
        XCTAssertGreaterThan(try primary.int("PRAGMA schema_version"), 1)
        // Only the change counter, version-valid-for and SQLite version may differ (they are
        // the writer's, and the replica rewrites the first two on every apply); the schema
        // cookie must not.
        let allowed = Set(Array(24..<28) + Array(92..<100))
        let differing = (0..<expected.count).filter { expected[$0] != image[$0] && !allowed.contains($0) }
        XCTAssertEqual(differing, [])
    }

    func testAnImageInstallsFreshAndOverACopyReadersHaveOpen() throws {
        let primary = try makePrimary(rows: 500, txid: 3)
        let dataDirectory = URL(fileURLWithPath: directory + "/replica")
        let applier = try ReplicaApplier(dataDirectory: dataDirectory)
        XCTAssertFalse(applier.hasCopy)
        let header1 = try image(of: primary, into: directory + "/image1")
        try applier.install(imageAt: directory + "/image1", header: header1)
        XCTAssertTrue(applier.hasCopy)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/image1"), "the download is consumed")
        let reader = try TestDB(path: applier.databasePath, readOnly: true)
        XCTAssertEqual(try applier.lock.withReadLock { try reader.dump() }, try primary.dump())

        // The primary changes, its schema included; the same open reader sees the new image.
        try primary.exec(
            "CREATE TABLE later(x); INSERT INTO later VALUES (1); WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 2000) INSERT INTO items(payload) SELECT randomblob(500) FROM s; UPDATE replication_position SET txid = 9"
        )
        let header2 = try image(of: primary, into: directory + "/image2")
        try applier.install(imageAt: directory + "/image2", header: header2)
        XCTAssertEqual(applier.position?.txid, 9)
        XCTAssertEqual(try applier.lock.withReadLock { try reader.dump() }, try primary.dump())
        XCTAssertEqual(try applier.lock.withReadLock { try reader.rows("PRAGMA integrity_check") }, [["ok"]])
    }

    private func image(of primary: TestDB, into path: String) throws -> SnapshotHeader {
        let copy = try SnapshotImage.copyDatabase(from: primary.path, to: path)
        return SnapshotHeader(generation: .random(), id: .random(), txid: copy.txid, checksum: 0, pageSize: copy.pageSize, imageLength: copy.length)
    }
}
