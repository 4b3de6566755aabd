import Foundation
import XCTest

@testable import OJSReplication

/// Generation file, reset and history-start tests.
extension ReplicationLogTests {
    func testResetStartsAFreshHistory() throws {
        let directory = newDirectory()
        let fresh = Generation.random()
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: 1)
            for record in try F.chain(generation: log.generation, count: 5) { try log.append(record) }
            try log.reset(generation: fresh)
            XCTAssertEqual(
                log.stats,
                .init(
                    generation: fresh,
                    firstTxid: 0,
                    lastTxid: 0,
                    lastChecksum: 0,
                    totalBytes: 0,
                    segmentCount: 0
                )
            )
            XCTAssertEqual(try segmentNames(directory), [])
            XCTAssertThrowsError(try log.records(after: 5, maxBytes: 1)) {
                XCTAssertEqual($0 as? ReplicationLogError, .ahead(last: 0))
            }
            try log.append(try F.chain(generation: fresh, count: 1)[0])
        }
        let log = try ReplicationLog(directory: directory)
        XCTAssertEqual(log.generation, fresh)
        XCTAssertEqual(log.lastTxid, 1)
    }

    func testResetCanStartAHistoryAfterAnExistingTxid() throws {
        let directory = newDirectory()
        let fresh = Generation.random()
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory)
            for record in try F.chain(generation: log.generation, count: 3) { try log.append(record) }
            try log.reset(generation: fresh, lastTxid: 100)
            XCTAssertEqual(
                log.stats,
                .init(
                    generation: fresh,
                    firstTxid: 0,
                    lastTxid: 100,
                    lastChecksum: 0,
                    totalBytes: 0,
                    segmentCount: 0
                )
            )
        }
        let text = try String(contentsOf: directory.appendingPathComponent("generation"), encoding: .utf8)
        XCTAssertEqual(text, fresh.text + "\nstart-after-txid 100\n")
        do {
            // The starting point survives a reopen of the still-empty log.
            let log = try ReplicationLog(directory: directory)
            XCTAssertEqual(log.lastTxid, 100)
            XCTAssertEqual(try log.records(after: 100, maxBytes: .max), [])
            XCTAssertEqual(try log.checksum(at: 100), 0)
            XCTAssertThrowsError(try log.records(after: 3, maxBytes: .max)) {
                XCTAssertEqual($0 as? ReplicationLogError, .trimmed(oldestAvailable: 101))
            }
            XCTAssertThrowsError(try log.checksum(at: 3)) {
                XCTAssertEqual($0 as? ReplicationLogError, .trimmed(oldestAvailable: 101))
            }
            chain = try F.chain(generation: fresh, count: 3, first: 101, previous: 0)
            XCTAssertThrowsError(try log.append(try F.chain(generation: fresh, count: 1)[0])) {
                XCTAssertEqual($0 as? ReplicationLogError, .outOfOrder(expected: 101, got: 1))
            }
            for record in chain { try log.append(record) }
        }
        let log = try ReplicationLog(directory: directory)
        XCTAssertEqual(log.firstTxid, 101)
        XCTAssertEqual(log.lastTxid, 103)
        XCTAssertEqual(try log.checksum(at: 100), 0)
        XCTAssertEqual(try log.records(after: 100, maxBytes: .max), chain)
        XCTAssertEqual(try segmentNames(directory), ["00000000000000000101.ojsr"])
    }

    func testInterruptedResetIsCompletedOnOpen() throws {
        let directory = newDirectory()
        do {
            let log = try ReplicationLog(directory: directory)
            for record in try F.chain(generation: log.generation, count: 3) { try log.append(record) }
        }
        let fresh = Generation.random()
        try (fresh.text + "\n").write(to: directory.appendingPathComponent("generation"), atomically: true, encoding: .utf8)
        let log = try ReplicationLog(directory: directory)
        XCTAssertEqual(log.generation, fresh)
        XCTAssertEqual(log.lastTxid, 0)
        XCTAssertEqual(try segmentNames(directory), [])
    }

    func testMissingOrBadGenerationFileFailsTheOpen() throws {
        let directory = newDirectory()
        do {
            let log = try ReplicationLog(directory: directory)
            for record in try F.chain(generation: log.generation, count: 1) { try log.append(record) }
        }
        let file = directory.appendingPathComponent("generation")
        try "not a uuid\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReplicationLog(directory: directory)) {
            guard case ReplicationLogError.badGenerationFile = $0 else { return XCTFail("\($0)") }
        }
        try FileManager.default.removeItem(at: file)
        XCTAssertThrowsError(try ReplicationLog(directory: directory)) {
            guard case ReplicationLogError.generationFileMissing = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ReplicationLog(directory: directory, segmentBytes: 0)) {
            guard case ReplicationLogError.badConfiguration = $0 else { return XCTFail("\($0)") }
        }
    }

    /// A relay log restarted at a snapshot's position (G, S, C) in the history it already
    /// follows: the start survives a reopen, checksum(at: S) is C, and the next record must
    /// chain from C. Generation files without a start checksum stay readable.
    func testResetToTheSameGenerationStartsAfterATxidWithAChecksum() throws {
        let directory = newDirectory()
        let generation: Generation
        let tail: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: 1)
            generation = log.generation
            let history = try F.chain(generation: generation, count: 12)
            for record in history.prefix(4) { try log.append(record) }
            let start = history[8]
            try log.reset(generation: generation, lastTxid: start.txid, checksum: start.checksum)
            XCTAssertEqual(
                log.stats,
                .init(generation: generation, firstTxid: 0, lastTxid: 9, lastChecksum: start.checksum, totalBytes: 0, segmentCount: 0)
            )
            XCTAssertEqual(try segmentNames(directory), [])
            tail = Array(history[9...])
            XCTAssertThrowsError(try log.append(try F.chain(generation: generation, count: 1, first: 10, previous: 0)[0])) {
                guard case ReplicationLogError.chainBroken = $0 else { return XCTFail("\($0)") }
            }
        }
        let text = try String(contentsOf: directory.appendingPathComponent("generation"), encoding: .utf8)
        XCTAssertEqual(text, generation.text + "\nstart-after-txid 9\nstart-checksum \(tail[0].previousChecksum)\n")
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: 1)
            XCTAssertEqual(log.lastTxid, 9)
            XCTAssertEqual(log.lastChecksum, tail[0].previousChecksum)
            XCTAssertEqual(try log.checksum(at: 9), tail[0].previousChecksum)
            for record in tail { try log.append(record) }
        }
        let log = try ReplicationLog(directory: directory)
        XCTAssertEqual(log.firstTxid, 10)
        XCTAssertEqual(log.lastTxid, 12)
        XCTAssertEqual(try log.checksum(at: 9), tail[0].previousChecksum, "the start-after point, now from the segment")
        XCTAssertEqual(try log.records(after: 9, maxBytes: .max), tail)

        // A file written before start checksums existed.
        let old = newDirectory()
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        try (generation.text + "\nstart-after-txid 7\n").write(to: old.appendingPathComponent("generation"), atomically: true, encoding: .utf8)
        let reopened = try ReplicationLog(directory: old)
        XCTAssertEqual(reopened.lastTxid, 7)
        XCTAssertEqual(reopened.lastChecksum, 0)
    }
}
