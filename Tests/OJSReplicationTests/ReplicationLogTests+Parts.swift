import Foundation
import Logging
import XCTest

@testable import OJSReplication

/// The log with transactions in several records: a transaction is visible only once whole,
/// never spans segments, is read back and windowed whole, and a torn one disappears on open.
final class ReplicationLogPartsTests: LogDirectoryTestCase {
    /// Transaction `txid` of `pages` 512-byte pages in records of at most `perPart` pages.
    func parts(_ log: ReplicationLog, txid: UInt64, pages: Int = 10, perPart: Int = 3) throws -> [EncodedRecord] {
        var rng = F.SplitMix64(seed: txid)
        let numbers = F.pageNumbers(pages, using: &rng)
        var out: [EncodedRecord] = []
        try TransactionEncoder(partPageBytes: perPart * 516).encode(
            generation: log.generation,
            txid: txid,
            commitTime: 1_700_000_000_000 + Int64(txid),
            pageSize: 512,
            databasePages: (numbers.last ?? 1) + 1,
            pageNumbers: numbers,
            previousChecksum: log.lastChecksum,
            image: { _ in F.randomBytes(512, using: &rng) },
            emit: { out.append($0) }
        )
        return out
    }

    func testATransactionIsVisibleOnlyOnceItsLastPartIsAppended() throws {
        let log = try ReplicationLog(directory: newDirectory())
        let first = try parts(log, txid: 1, pages: 1)
        try log.append(first[0])
        let big = try parts(log, txid: 2)
        XCTAssertEqual(big.count, 4)
        for part in big.dropLast() { try log.append(part) }
        XCTAssertEqual(log.lastTxid, 1, "not visible before its last part")
        XCTAssertEqual(try log.records(after: 0, maxBytes: 1 << 30).map(\.txid), [1])
        try log.append(big[3])
        XCTAssertEqual(log.lastTxid, 2)
        XCTAssertEqual(log.lastChecksum, big[3].checksum)
        let read = try log.records(after: 1, maxBytes: 1)
        XCTAssertEqual(read.map(\.part), [0, 1, 2, 3], "a read returns whole transactions")
        XCTAssertEqual(read.map(\.bytes), big.map(\.bytes))
        XCTAssertEqual(try log.checksum(at: 1), first[0].checksum)
        XCTAssertEqual(try log.checksum(at: 2), big[3].checksum, "the chain value after a transaction is its last part's")
    }

    func testPartsOutOfOrderOrMissingAreRefused() throws {
        let log = try ReplicationLog(directory: newDirectory())
        let big = try parts(log, txid: 1)
        XCTAssertThrowsError(try log.append(big[1]))
        try log.append(big[0])
        XCTAssertThrowsError(try log.append(big[2]))
        XCTAssertThrowsError(try log.append(try parts(log, txid: 2, pages: 1)[0]), "the next transaction cannot start first")
        try log.append(big[1])
        try log.append(big[2])
        try log.append(big[3])
        XCTAssertEqual(log.lastTxid, 1)
    }

    func testATransactionNeverSpansSegments() throws {
        let directory = newDirectory()
        let log = try ReplicationLog(directory: directory, segmentBytes: 1500)
        for txid in 1...3 {
            for part in try parts(log, txid: UInt64(txid)) { try log.append(part) }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".ojsr") }.sorted()
        XCTAssertEqual(names, [1, 2, 3].map { LogSegment.fileName(firstTxid: $0) }, "one transaction per segment, each larger than the limit")
        let reopened = try ReplicationLog(directory: directory, segmentBytes: 1500)
        XCTAssertEqual(reopened.lastTxid, 3)
        XCTAssertEqual(try reopened.records(after: 0, maxBytes: 1 << 30).count, 12)
    }

    func testAStreamReadsALargeTransactionInWindows() throws {
        let log = try ReplicationLog(directory: newDirectory())
        let big = try parts(log, txid: 1, pages: 40)
        for part in big { try log.append(part) }
        let whole = big.flatMap(\.bytes)
        XCTAssertEqual(log.transactionLength(1), whole.count)
        XCTAssertNil(log.transactionLength(2))
        var received: [UInt8] = []
        while received.count < whole.count {
            let (bytes, total) = try log.transactionBytes(1, from: received.count, maxBytes: 1000)
            XCTAssertEqual(total, whole.count)
            XCTAssertLessThanOrEqual(bytes.count, 1000)
            received += bytes
        }
        XCTAssertEqual(received, whole)
        var decoder = RecordStreamDecoder(generation: log.generation)
        decoder.feed(received)
        XCTAssertEqual(try decoder.drain().count, big.count)
        XCTAssertEqual(decoder.lastTxid, 1)
    }

    func testATornMultiPartTransactionDisappearsOnOpen() throws {
        let directory = newDirectory()
        var complete: EncodedRecord?
        do {
            let log = try ReplicationLog(directory: directory)
            complete = try parts(log, txid: 1, pages: 1)[0]
            try log.append(complete!)
            // A crash after two of the next transaction's four parts.
            for part in try parts(log, txid: 2).prefix(2) { try log.append(part) }
        }
        let reopened = try ReplicationLog(directory: directory)
        XCTAssertEqual(reopened.lastTxid, 1)
        XCTAssertEqual(reopened.lastChecksum, complete?.checksum)
        XCTAssertGreaterThan(reopened.recoveredTailBytes, 0)
        // Appending continues cleanly from the last whole transaction.
        for part in try parts(reopened, txid: 2) { try reopened.append(part) }
        XCTAssertEqual(try ReplicationLog(directory: directory).lastTxid, 2)
    }

    func testAStreamCursorSendsALargeTransactionInWindowsAndThenMovesOn() async throws {
        let log = try ReplicationLog(directory: newDirectory())
        let big = try parts(log, txid: 1, pages: 40)
        for part in big { try log.append(part) }
        let small = try parts(log, txid: 2, pages: 1)
        try log.append(small[0])
        let source = ReplicationSource(
            log: log,
            databasePath: "/nonexistent",
            snapshots: try SnapshotImages(directory: newDirectory().path),
            logger: .init(label: "test")
        )
        source.logged.reset(to: 2)
        var cursor = StreamCursor(txid: 0)
        var bytes: [UInt8] = []
        var calls = 0
        while cursor.txid < 2, calls < 1000 {
            let (chunk, next) = try await source.nextChunk(after: cursor, maxBytes: 4096, now: { 0 })
            XCTAssertLessThanOrEqual(chunk.count, 4096)
            bytes += chunk
            cursor = next
            calls += 1
        }
        XCTAssertEqual(bytes, big.flatMap(\.bytes) + small[0].bytes)
        XCTAssertGreaterThan(calls, 2)
    }
}
