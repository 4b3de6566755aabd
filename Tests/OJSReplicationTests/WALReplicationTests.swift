import CSQLite
import Foundation
import Synchronization
import XCTest

@testable import OJSReplication

/// End-to-end: a WAL-mode primary, its WAL tailed by `WALReader`, pages applied by
/// `PageApplier` to a rollback-mode replica, checked through a long-lived reader connection
/// whose page cache is warm (opened before any apply).
final class WALReplicationTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "wal-repl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static let itemsSchema = """
        CREATE TABLE items(id INTEGER PRIMARY KEY, x INTEGER NOT NULL, label TEXT, payload BLOB);
        CREATE INDEX items_x ON items(x);
        WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 200)
        INSERT INTO items(x, label, payload) SELECT n, 'seed' || n, randomblob(100) FROM s;
        """

    // MARK: - Random workload

    func testRandomWorkloadStaysInSync() throws {
        let f = try ReplicationFixture(directory: directory, schema: Self.itemsSchema)
        var rng = SplitMix64(state: 0x5eed)
        for round in 0..<16 {
            switch round {
            case 3:
                // 5 MB in one transaction with a 20-page cache: the pager spills to the WAL
                // long before COMMIT.
                try f.primary.exec("PRAGMA cache_size=20")
                try f.primary.exec("BEGIN")
                for i in 0..<5 { try f.primary.exec("INSERT INTO items(x, label, payload) VALUES (\(i), 'big', randomblob(1048576))") }
                try f.primary.exec("COMMIT")
                try f.primary.exec("PRAGMA cache_size=-2000")
            case 5:
                try f.primary.exec("CREATE TABLE extra(k TEXT UNIQUE, v BLOB); INSERT INTO extra VALUES ('a', randomblob(5000)), ('b', NULL)")
            case 7:
                // A rolled-back spill: its frames are overwritten by the next transaction.
                try f.primary.exec("PRAGMA cache_size=20")
                try f.primary.exec("BEGIN; INSERT INTO items(x, payload) VALUES (-1, randomblob(2000000))")
                try f.primary.exec("ROLLBACK")
                try f.primary.exec("PRAGMA cache_size=-2000")
                try f.primary.exec("INSERT INTO extra VALUES ('c', randomblob(100))")
            case 9:
                // auto_vacuum=FULL: the database file shrinks, so the replica must truncate.
                try f.primary.exec("DELETE FROM items WHERE label = 'big' OR id % 3 = 0")
            case 12:
                try f.primary.exec("VACUUM")
            case 14:
                try f.primary.exec("ALTER TABLE items ADD COLUMN note TEXT DEFAULT 'n'")
            default:
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    try f.primary.exec("BEGIN")
                    for _ in 0..<Int.random(in: 1...20, using: &rng) {
                        try f.primary.exec(randomStatement(&rng))
                    }
                    try f.primary.exec("COMMIT")
                }
            }
            let pagesBefore = try f.primary.int("PRAGMA page_count")
            let shipped = try f.ship()
            XCTAssertFalse(shipped.isEmpty, "round \(round) shipped nothing")
            XCTAssertEqual(shipped.last.map { Int64($0.databasePages) }, pagesBefore, "round \(round)")
            try f.assertInSync("round \(round)")
        }
        XCTAssertEqual(try f.readReplica { try $0.rows("PRAGMA integrity_check") }, [["ok"]])
    }

    private func randomStatement(_ rng: inout SplitMix64) -> String {
        let n = Int.random(in: 0..<1000, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0, 1:
            return "INSERT INTO items(x, label, payload) VALUES (\(n), 'r\(n)', randomblob(\(Int.random(in: 0...3000, using: &rng))))"
        case 2:
            return "UPDATE items SET x = x + \(n) WHERE id % 7 = \(n % 7)"
        case 3:
            return "UPDATE items SET payload = randomblob(\(n * 3)) WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 3)"
        default:
            return "DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT \(n % 10))"
        }
    }

    // MARK: - WAL lifecycle

    func testCheckpointRestartAndTruncate() throws {
        let f = try ReplicationFixture(directory: directory, schema: Self.itemsSchema)
        // A long first generation, so stale frames remain past the restarted generation's end.
        try f.primary.exec("INSERT INTO items(x, payload) VALUES (1, randomblob(400000))")
        try f.primary.exec("INSERT INTO items(x, payload) VALUES (2, randomblob(1000))")
        XCTAssertEqual(try f.ship().count, 2)
        try f.assertInSync("first generation")
        let firstSalts = try walSalts(f.walPath)
        let firstEnd = try XCTUnwrap(f.walReader.nextFrameOffset)

        XCTAssertEqual(try f.primary.rows("PRAGMA wal_checkpoint(RESTART)").first?.first, "0")
        XCTAssertEqual(try f.ship().count, 0, "a checkpoint alone commits nothing")
        try f.primary.exec("UPDATE items SET label = 'after restart' WHERE id < 50")
        XCTAssertNotEqual(try walSalts(f.walPath), firstSalts, "the writer restarted the WAL")
        XCTAssertEqual(fileSize(f.walPath), firstEnd, "the old generation's frames are still on disk")
        XCTAssertEqual(try f.ship().count, 1, "stale frames of the old generation are not returned")
        XCTAssertLessThan(try XCTUnwrap(f.walReader.nextFrameOffset), firstEnd)
        try f.assertInSync("after RESTART")

        XCTAssertEqual(try f.primary.rows("PRAGMA wal_checkpoint(TRUNCATE)").first?.first, "0")
        XCTAssertEqual(fileSize(f.walPath), 0)
        XCTAssertEqual(try f.ship().count, 0)
        XCTAssertNil(f.walReader.nextFrameOffset)
        try f.primary.exec("INSERT INTO items(x, label) VALUES (7, 'after truncate')")
        try f.primary.exec("DELETE FROM items WHERE id % 2 = 0")
        f.walReader.reset()  // harmless: the position was already forgotten
        XCTAssertEqual(try f.ship().count, 2)
        try f.assertInSync("after TRUNCATE")
    }

    func testUncommittedTransactionIsNotReturnedUntilCommit() throws {
        let f = try ReplicationFixture(directory: directory, schema: Self.itemsSchema)
        let committedEnd = try XCTUnwrap(f.walReader.nextFrameOffset)
        let rowsBefore = try f.readReplica { try $0.int("SELECT count(*) FROM items") }

        try f.primary.exec("PRAGMA cache_size=20")
        try f.primary.exec("BEGIN")
        for _ in 0..<3 { try f.primary.exec("INSERT INTO items(x, payload) VALUES (0, randomblob(1048576))") }
        XCTAssertGreaterThan(fileSize(f.walPath), committedEnd + 2_000_000, "the open transaction spilled frames")
        XCTAssertEqual(try f.ship().count, 0)
        XCTAssertEqual(f.walReader.nextFrameOffset, committedEnd)
        XCTAssertEqual(try f.readReplica { try $0.int("SELECT count(*) FROM items") }, rowsBefore)

        try f.primary.exec("COMMIT")
        let shipped = try f.ship()
        XCTAssertEqual(shipped.count, 1)
        XCTAssertEqual(shipped.first.map { Set($0.pages.keys).count }, shipped.first?.pages.count)
        try f.assertInSync("after commit")

        // A spill that is rolled back never becomes a transaction; the next commit overwrites it.
        try f.primary.exec("BEGIN; INSERT INTO items(x, payload) VALUES (0, randomblob(2000000))")
        XCTAssertEqual(try f.ship().count, 0)
        try f.primary.exec("ROLLBACK")
        try f.primary.exec("PRAGMA cache_size=-2000")
        try f.primary.exec("INSERT INTO items(x, label) VALUES (42, 'small')")
        XCTAssertEqual(try f.ship().count, 1)
        try f.assertInSync("after rollback")
    }

    func testCorruptFrameEndsReading() throws {
        let f = try ReplicationFixture(directory: directory, schema: Self.itemsSchema)
        try f.primary.exec("INSERT INTO items(x, label) VALUES (1, 'A')")
        try f.ship()
        try f.primary.exec("INSERT INTO items(x, label) VALUES (2, 'B')")
        let endOfB = fileSize(f.walPath)
        let rowsAfterB = try f.primary.int("SELECT count(*) FROM items")
        try f.primary.exec("INSERT INTO items(x, label) VALUES (3, 'C')")

        // Corrupt the page data of C's first frame, past the reader's position.
        let target = endOfB + Int64(WALFormat.frameHeaderSize) + 100
        try flipByte(in: f.walPath, at: target)
        let transactions = try f.walReader.readNewTransactions()
        XCTAssertEqual(transactions.count, 1, "B is returned, C and everything after it is not")
        XCTAssertEqual(f.walReader.nextFrameOffset, endOfB)
        XCTAssertEqual(try f.walReader.readNewTransactions().count, 0)
        try f.applier.apply(transactions, lock: f.lock)
        XCTAssertEqual(try f.readReplica { try $0.int("SELECT count(*) FROM items") }, rowsAfterB)

        // Once the frame is intact again, reading resumes where it stopped.
        try flipByte(in: f.walPath, at: target)
        XCTAssertEqual(try f.ship().count, 1)
        try f.assertInSync("after repair")
    }

    // MARK: - Hand-made WAL files

    func testSyntheticWALLastImageWinsInBothByteOrders() throws {
        for bigEndian in [false, true] {
            var wal = SyntheticWAL(bigEndian: bigEndian)
            wal.append(page: 2, fill: 1)
            wal.append(page: 3, fill: 2)
            wal.append(page: 2, fill: 3)  // same page again before the commit: this image wins
            wal.append(page: 5, fill: 9)  // past the committed size: dropped
            wal.append(page: 4, fill: 5, commitSize: 4)
            wal.append(page: 2, fill: 6, commitSize: 4)
            wal.append(page: 3, fill: 7)  // no commit frame yet
            let dbPath = directory + "/synthetic-\(bigEndian).db"
            try Data(wal.bytes).write(to: URL(fileURLWithPath: dbPath + "-wal"))

            let reader = WALReader(databasePath: dbPath)
            let transactions = try reader.readNewTransactions()
            XCTAssertEqual(transactions.count, 2)
            let first = try XCTUnwrap(transactions.first)
            XCTAssertEqual(first.databasePages, 4)
            XCTAssertEqual(first.pageSize, 512)
            XCTAssertEqual(first.pages.mapValues { $0.first }, [2: 3, 3: 2, 4: 5])
            XCTAssertTrue(first.pages.values.allSatisfy { $0.count == 512 })
            XCTAssertEqual(transactions.last?.pages.mapValues { $0.first }, [2: 6])
            XCTAssertEqual(reader.nextFrameOffset, Int64(32 + 6 * (24 + 512)))
            XCTAssertEqual(try reader.readNewTransactions().count, 0)

            // A commit frame from another generation (wrong salt) is the end of valid data.
            wal.append(page: 4, fill: 8, commitSize: 4, salt1: wal.salt1 &+ 1)
            try Data(wal.bytes).write(to: URL(fileURLWithPath: dbPath + "-wal"))
            XCTAssertEqual(try reader.readNewTransactions().count, 0)

            // A header whose checksum fails makes the whole WAL empty, as it is for SQLite.
            var badHeader = wal.bytes
            badHeader[20] ^= 0xff
            try Data(badHeader).write(to: URL(fileURLWithPath: dbPath + "-wal"))
            XCTAssertEqual(try WALReader(databasePath: dbPath).readNewTransactions().count, 0)
        }
    }

    func testMissingWALReadsNothing() throws {
        XCTAssertEqual(try WALReader(databasePath: directory + "/absent.db").readNewTransactions().count, 0)
    }

    // MARK: - Concurrent readers

    func testReadersNeverSeeAPartialBatch() throws {
        let f = try ReplicationFixture(
            directory: directory,
            schema: "CREATE TABLE c(id INTEGER PRIMARY KEY, x INTEGER NOT NULL, pad BLOB)"
        )
        let state = HammerState()
        let group = DispatchGroup()
        let lock = f.lock
        let path = f.replicaPath
        for _ in 0..<3 {
            DispatchQueue.global().async(group: group) {
                do {
                    let db = try TestDB(path: path, readOnly: true)
                    while !state.done.load(ordering: .acquiring) {
                        let row = try lock.withReadLock { try db.rows("SELECT count(*), coalesce(sum(x), 0) FROM c") }
                        state.record(row.first ?? [])
                    }
                } catch {
                    state.fail("\(error)")
                }
            }
        }
        // Each batch is two WAL transactions of 50 rows (x = 1...50, then 51...100), applied
        // together: a reader must see both or neither, so count is always a multiple of 100
        // and sum is 5050 per hundred rows.
        let batches = 40
        for _ in 0..<batches {
            for half in 0..<2 {
                try f.primary.exec(
                    """
                    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 50)
                    INSERT INTO c(x, pad) SELECT n + \(half * 50), randomblob(300) FROM s
                    """
                )
            }
            XCTAssertEqual(try f.ship().count, 2)
            usleep(2000)  // give the readers a turn on two cores
        }
        state.done.store(true, ordering: .releasing)
        group.wait()

        let stats = state.snapshot()
        XCTAssertEqual(stats.errors, [])
        XCTAssertEqual(stats.violations, [])
        XCTAssertGreaterThan(stats.reads, batches, "readers actually ran during the applies")
        XCTAssertGreaterThan(stats.distinctCounts, 2, "readers observed several batches")
        XCTAssertEqual(try f.readReplica { try $0.int("SELECT count(*) FROM c") }, Int64(batches * 100))
        try f.assertInSync("after hammering")
    }

    // MARK: - Helpers

    private func walSalts(_ path: String) throws -> [UInt8] {
        Array(try fileBytes(path)[16..<24])
    }

    private func flipByte(in path: String, at offset: Int64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try XCTUnwrap(try handle.read(upToCount: 1)).first ?? 0
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: [byte ^ 0x5a])
    }
}

/// Shared between the reader threads and the test.
private final class HammerState: Sendable {
    struct Stats: Sendable {
        var reads = 0
        var counts = Set<Int64>()
        var violations: [String] = []
        var errors: [String] = []
        var distinctCounts: Int { counts.count }
    }

    let done = Atomic<Bool>(false)
    private let stats = Mutex(Stats())

    func record(_ row: [String]) {
        stats.withLock { s in
            s.reads += 1
            guard row.count == 2, let count = Int64(row[0]), let sum = Int64(row[1]) else {
                s.violations.append("bad row \(row)")
                return
            }
            s.counts.insert(count)
            if count % 100 != 0 || sum != count / 100 * 5050 {
                s.violations.append("count \(count) sum \(sum)")
            }
        }
    }

    func fail(_ message: String) { stats.withLock { $0.errors.append(message) } }
    func snapshot() -> Stats { stats.withLock { $0 } }
}
