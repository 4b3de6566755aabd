import Foundation
import XCTest

@testable import OJSReplication

/// Opening a log reads the newest segment whole and only the first header of each older one;
/// the older ones are indexed and verified the first time something needs them. Everything a
/// fully indexed log answers must come out the same, and damage must still be found.
final class ReplicationLogLazyIndexTests: LogDirectoryTestCase {
    /// Two records per segment.
    private func segmentBytes() throws -> Int {
        let probe = try F.chain(generation: .random(), count: 1)[0].bytes.count
        return probe * 2 + probe / 2
    }

    func testAReopenedLogAnswersLikeTheOneThatWroteIt() throws {
        let directory = newDirectory()
        let size = try segmentBytes()
        let chain: [EncodedRecord]
        let before: ReplicationLog.Stats
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: size)
            chain = try F.chain(generation: log.generation, count: 12)
            for record in chain { try log.append(record) }
            before = log.stats
        }
        let log = try ReplicationLog(directory: directory, segmentBytes: size)
        XCTAssertEqual(log.stats, before)
        XCTAssertEqual(log.segmentCount, 6)
        XCTAssertEqual(log.transactionLength(3), chain[2].bytes.count)
        XCTAssertEqual(try log.checksum(at: 0), 0)
        for record in chain { XCTAssertEqual(try log.checksum(at: record.txid), record.checksum) }
        XCTAssertEqual(try log.records(after: 5, maxBytes: .max), Array(chain[5...]))
        XCTAssertEqual(try log.records(after: 0, maxBytes: .max), chain)
        let next = try F.chain(generation: log.generation, count: 1, first: 13, previous: chain[11].checksum)
        try log.append(next[0])
        XCTAssertEqual(try log.records(after: 11, maxBytes: .max), [chain[11]] + next)
    }

    func testRetentionByAgeReadsTheCommitTimesOfReopenedSegments() throws {
        let hour: Int64 = 3_600_000
        let base: Int64 = 1_700_000_000_000
        let directory = newDirectory()
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: 1)
            for record in try F.chain(generation: log.generation, count: 30, commitTime: { base + Int64($0) * hour }) {
                try log.append(record)
            }
        }
        let log = try ReplicationLog(directory: directory, segmentBytes: 1, retentionAgeMs: 24 * hour)
        XCTAssertEqual(try log.applyRetention(now: base + 20 * hour), 0)
        XCTAssertEqual(try log.applyRetention(now: base + 31 * hour), 6)
        XCTAssertEqual(log.firstTxid, 7)
    }

    func testDamagePastTheFirstHeaderOfAnOlderSegmentFailsItsFirstRead() throws {
        let directory = newDirectory()
        let size = try segmentBytes()
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: size)
            chain = try F.chain(generation: log.generation, count: 6)
            for record in chain { try log.append(record) }
        }
        // The second record of the oldest segment loses its magic.
        let oldest = directory.appendingPathComponent("00000000000000000001.ojsr")
        var bytes = try [UInt8](Data(contentsOf: oldest))
        bytes[chain[0].bytes.count] = UInt8(ascii: "X")
        try Data(bytes).write(to: oldest)

        let log = try ReplicationLog(directory: directory, segmentBytes: size)
        XCTAssertEqual(log.lastTxid, 6)
        XCTAssertEqual(try log.records(after: 2, maxBytes: .max), Array(chain[2...]), "the intact segments serve")
        for attempt in 0..<2 {
            XCTAssertThrowsError(try log.records(after: 0, maxBytes: .max), "attempt \(attempt)") {
                guard case ReplicationLogError.corruptSegment(let file, let offset, _) = $0 else { return XCTFail("\($0)") }
                XCTAssertTrue(file.hasSuffix("00000000000000000001.ojsr"))
                XCTAssertEqual(offset, chain[0].bytes.count)
            }
        }
        XCTAssertThrowsError(try log.checksum(at: 1))
    }
}
