import Foundation
import XCTest

@testable import OJSReplication
@testable import OJSStore

/// A transaction received in several records is spooled to disk part by part and applied from
/// there in one step; a crash after the spool was complete is repaired on the next open.
final class SpooledTransactionTests: XCTestCase {
    var root: URL!

    override func setUp() {
        super.setUp()
        root = RecordFixtures.temporaryDirectory()
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: root)
        super.tearDown()
    }

    /// A database image before and after inserting `rows` rows of 1 KB.
    func images(rows: Int) throws -> (before: [UInt8], after: [UInt8]) {
        let path = root.appendingPathComponent("source.db").path
        let db = try Connection(path: path)
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let before = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try db.execute("BEGIN")
        for i in 0..<rows { try db.run("INSERT INTO t (id, body) VALUES (?, ?)", [.int(Int64(i)), .text(String(repeating: "r", count: 1000))]) }
        try db.execute("COMMIT")
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let after = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        return (before, after)
    }

    /// A replica at txid 0 of `generation` holding `image`.
    func replica(_ image: [UInt8], generation: Generation) throws -> URL {
        let directory = root.appendingPathComponent("replica")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let imageFile = directory.appendingPathComponent("image.download")
        try Data(image).write(to: imageFile)
        try PageApplier.installSnapshot(fileAt: imageFile.path, at: directory.appendingPathComponent("replica.db").path)
        try ReplicaPosition(generation: generation, txid: 0, checksum: 0).save(to: directory.appendingPathComponent("position.json"))
        return directory
    }

    /// Transaction 1 = every page of `image`, in records of at most 4 pages.
    func parts(_ image: [UInt8], generation: Generation) throws -> [StreamedRecord] {
        let pageSize = 4096
        let count = image.count / pageSize
        var encoded: [EncodedRecord] = []
        try TransactionEncoder(partPageBytes: 4 * (4 + pageSize)).encode(
            generation: generation,
            txid: 1,
            commitTime: 1,
            pageSize: UInt32(pageSize),
            databasePages: UInt32(count),
            pageNumbers: (1...count).map(UInt32.init),
            previousChecksum: 0,
            image: { Array(image[(Int($0) - 1) * pageSize..<Int($0) * pageSize]) },
            emit: { encoded.append($0) }
        )
        var decoder = RecordStreamDecoder(generation: generation)
        for record in encoded { decoder.feed(record.bytes) }
        return try decoder.drain()
    }

    func rows(_ directory: URL) throws -> Int64 {
        let reader = try Connection(path: directory.appendingPathComponent("replica.db").path, options: .init(readOnly: true))
        XCTAssertEqual(try reader.first("PRAGMA integrity_check") { $0.text(0) }, "ok")
        return try reader.scalar("SELECT count(*) FROM t")
    }

    func testASpooledTransactionIsAppliedWholeFromDisk() throws {
        let (before, after) = try images(rows: 200)
        let generation = Generation.random()
        let directory = try replica(before, generation: generation)
        let records = try parts(after, generation: generation)
        XCTAssertGreaterThan(records.count, 10, "the transaction needs many records")
        let applier = try ReplicaApplier(dataDirectory: directory)
        let reader = try Connection(path: directory.appendingPathComponent("replica.db").path, options: .init(readOnly: true))
        XCTAssertEqual(try reader.scalar("SELECT count(*) FROM t"), 0)

        let spool = PartSpool(directory: directory.path)
        var spooled: SpooledTransaction?
        for record in records {
            XCTAssertNil(spooled, "whole only after the last part")
            spooled = try spool.append(record)
        }
        let whole = try XCTUnwrap(spooled)
        XCTAssertEqual(whole.records, records.count)
        try applier.apply([PendingTransaction.spooled(whole)])

        XCTAssertEqual(try reader.scalar("SELECT count(*) FROM t"), 200, "a warm connection sees the whole transaction")
        XCTAssertEqual(applier.position?.txid, 1)
        XCTAssertEqual(applier.position?.checksum, records.last?.encoded.checksum)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("apply.spool").path))
        XCTAssertEqual(try rows(directory), 200)
    }

    func testACompleteSpoolLeftByACrashIsAppliedOnOpen() throws {
        let (before, after) = try images(rows: 120)
        let generation = Generation.random()
        let directory = try replica(before, generation: generation)
        // The spool was renamed into place, then the process died before applying it.
        let bytes = try parts(after, generation: generation).flatMap(\.encoded.bytes)
        try Data(bytes).write(to: directory.appendingPathComponent("apply.spool"))
        let applier = try ReplicaApplier(dataDirectory: directory)
        XCTAssertEqual(applier.position?.txid, 1)
        XCTAssertEqual(try rows(directory), 120)
    }

    func testAnIncompleteSpoolIsDiscardedAndTheCopyKeepsItsPosition() throws {
        let (before, after) = try images(rows: 120)
        let generation = Generation.random()
        let directory = try replica(before, generation: generation)
        let records = try parts(after, generation: generation)
        // Parts of a transaction whose stream broke: left as an incoming spool.
        let spool = PartSpool(directory: directory.path)
        for record in records.dropLast() { XCTAssertNil(try spool.append(record)) }
        let applier = try ReplicaApplier(dataDirectory: directory)
        XCTAssertEqual(applier.position?.txid, 0)
        XCTAssertEqual(try rows(directory), 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("incoming-") }
        XCTAssertEqual(leftovers, [], "the partial parts are removed; the stream sends them again")
        _ = spool
    }
}
