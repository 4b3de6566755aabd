import CSQLite
import Foundation
import XCTest

@testable import OJSReplication

/// A primary, a replica seeded from a backup-API snapshot of it, the WAL reader positioned
/// just after the snapshot, the applier, and a reader connection on the replica opened (and
/// its cache warmed) before any apply.
final class ReplicationFixture {
    let primaryPath: String
    let replicaPath: String
    var walPath: String { primaryPath + "-wal" }
    let primary: TestDB
    let walReader: WALReader
    let applier: PageApplier
    let lock = ReplicaLock()
    let reader: TestDB

    init(directory: String, schema: String) throws {
        primaryPath = directory + "/primary.db"
        replicaPath = directory + "/replica.db"
        primary = try TestDB.primary(path: primaryPath)
        try primary.exec(schema)

        let snapshotPath = directory + "/snapshot.db"
        try primary.backup(to: snapshotPath)
        try PageApplier.installSnapshot(fileAt: snapshotPath, at: replicaPath)
        let installed = try fileBytes(replicaPath)
        XCTAssertEqual(installed[18], 1)
        XCTAssertEqual(installed[19], 1)

        walReader = WALReader(databasePath: primaryPath)
        // The snapshot already contains everything committed so far; in production the writer
        // thread takes the snapshot and positions the reader without a commit in between.
        _ = try walReader.readNewTransactions()
        applier = try PageApplier(path: replicaPath)
        reader = try TestDB(path: replicaPath, readOnly: true)
        XCTAssertEqual(try readReplica { try $0.dump() }, try primary.dump())
    }

    func readReplica<T>(_ body: (TestDB) throws -> T) throws -> T {
        try lock.withReadLock { try body(reader) }
    }

    /// Everything committed since the last call, applied to the replica.
    @discardableResult
    func ship() throws -> [WALTransaction] {
        let transactions = try walReader.readNewTransactions()
        try applier.apply(transactions, lock: lock)
        return transactions
    }

    /// Same rows through the warm reader, and the same pages on disk apart from the header
    /// fields the applier owns.
    func assertInSync(_ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try primary.dump()
        let actual = try readReplica { try $0.dump() }
        if expected != actual {
            let index =
                zip(expected, actual).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(expected.count, actual.count)
            let want = index < expected.count ? expected[index] : "<end>"
            let got = index < actual.count ? actual[index] : "<end>"
            XCTFail(
                "\(context): rows differ at line \(index): primary \(want.prefix(200)) replica \(got.prefix(200))",
                file: file,
                line: line
            )
        }

        let primaryImage = try primary.serialize()
        let replicaImage = try lock.withReadLock { try fileBytes(replicaPath) }
        XCTAssertEqual(primaryImage.count, replicaImage.count, "\(context): file size", file: file, line: line)
        let pageSize = Int(try primary.int("PRAGMA page_size"))
        // Header fields the replica legitimately differs in: versions, change counter and
        // size, schema cookie (the backup API resets it), version-valid-for and SQLite version.
        let ignored = Set([18, 19] + Array(24..<32) + Array(40..<44) + Array(92..<100))
        var differing: [Int] = []
        for page in 0..<(min(primaryImage.count, replicaImage.count) / pageSize) {
            let range = (page * pageSize)..<((page + 1) * pageSize)
            if primaryImage[range] == replicaImage[range] { continue }
            if page == 0, range.allSatisfy({ ignored.contains($0) || primaryImage[$0] == replicaImage[$0] }) { continue }
            differing.append(page + 1)
        }
        XCTAssertEqual(differing, [], "\(context): pages differ", file: file, line: line)
        let check = try readReplica { try $0.rows("PRAGMA quick_check") }
        XCTAssertEqual(check, [["ok"]], "\(context): quick_check", file: file, line: line)
    }
}
