import Foundation
import XCTest

@testable import OJSReplication

final class ReplicationLogTests: LogDirectoryTestCase {
    func segmentNames(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".ojsr") }.sorted()
    }

    private func fileSize(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? -1
    }

    private func appendBytes(_ bytes: [UInt8], to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    func testFreshLogCreatesAndKeepsItsGeneration() throws {
        let directory = newDirectory().appendingPathComponent("nested/log")
        let log = try ReplicationLog(directory: directory)
        XCTAssertEqual(
            log.stats,
            .init(
                generation: log.generation,
                firstTxid: 0,
                lastTxid: 0,
                lastChecksum: 0,
                totalBytes: 0,
                segmentCount: 0
            )
        )
        let text = try String(contentsOf: directory.appendingPathComponent("generation"), encoding: .utf8)
        XCTAssertEqual(text, log.generation.text + "\n")
        XCTAssertEqual(try ReplicationLog(directory: directory).generation, log.generation)
        XCTAssertEqual(try log.records(after: 0, maxBytes: 1 << 20), [])
        XCTAssertEqual(try log.checksum(at: 0), 0)
    }

    func testAppendReopenAndReadBack() throws {
        let directory = newDirectory()
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory)
            chain = try F.chain(generation: log.generation, count: 10)
            for record in chain { try log.append(record) }
            XCTAssertEqual(log.lastTxid, 10)
            XCTAssertEqual(log.lastChecksum, chain[9].checksum)
        }
        let log = try ReplicationLog(directory: directory)
        XCTAssertEqual(
            log.stats,
            .init(
                generation: log.generation,
                firstTxid: 1,
                lastTxid: 10,
                lastChecksum: chain[9].checksum,
                totalBytes: chain.reduce(0) { $0 + $1.bytes.count },
                segmentCount: 1
            )
        )
        XCTAssertEqual(log.recoveredTailBytes, 0)
        XCTAssertEqual(try segmentNames(directory), ["00000000000000000001.ojsr"])
        XCTAssertEqual(try log.records(after: 0, maxBytes: .max), chain)
        XCTAssertEqual(try log.records(after: 7, maxBytes: .max).map(\.txid), [8, 9, 10])
        // Appends continue after reopening.
        let next = try F.chain(generation: log.generation, count: 1, first: 11, previous: chain[9].checksum)
        try log.append(next[0])
        XCTAssertEqual(try log.records(after: 10, maxBytes: .max), next)
    }

    func testAppendRejectsRecordsThatDoNotContinueTheLog() throws {
        let log = try ReplicationLog(directory: newDirectory())
        let chain = try F.chain(generation: log.generation, count: 3)
        try log.append(chain[0])
        XCTAssertThrowsError(try log.append(chain[2])) {
            XCTAssertEqual($0 as? ReplicationLogError, .outOfOrder(expected: 2, got: 3))
        }
        XCTAssertThrowsError(try log.append(chain[0])) {
            XCTAssertEqual($0 as? ReplicationLogError, .outOfOrder(expected: 2, got: 1))
        }
        let forked = try RecordCodec.encode(F.transaction(generation: log.generation, txid: 2), previousChecksum: 5)
        XCTAssertThrowsError(try log.append(forked)) {
            XCTAssertEqual($0 as? ReplicationLogError, .chainBroken(txid: 2, expectedPrevious: chain[0].checksum, found: 5))
        }
        let other = Generation.random()
        let foreign = try RecordCodec.encode(F.transaction(generation: other, txid: 2), previousChecksum: chain[0].checksum)
        XCTAssertThrowsError(try log.append(foreign)) {
            XCTAssertEqual($0 as? ReplicationLogError, .generationMismatch(expected: log.generation, got: other))
        }
        let heartbeat = try RecordCodec.encode(
            Record.heartbeat(generation: log.generation, lastTxid: 1, now: 0, pageSize: 512, databasePages: 1),
            previousChecksum: chain[0].checksum
        )
        XCTAssertThrowsError(try log.append(heartbeat)) {
            XCTAssertEqual($0 as? ReplicationLogError, .notTransaction)
        }
        try log.append(chain[1])
        XCTAssertEqual(log.lastTxid, 2)
    }

    func testTornTailIsTruncatedOnOpen() throws {
        let directory = newDirectory()
        let generation: Generation
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory)
            generation = log.generation
            chain = try F.chain(generation: generation, count: 6)
            for record in chain.prefix(5) { try log.append(record) }
        }
        let segment = directory.appendingPathComponent("00000000000000000001.ojsr")
        let cleanSize = try fileSize(segment)
        let torn = chain[5].bytes
        var corruptLast = torn
        corruptLast[corruptLast.count - 1] ^= 0xFF
        let zeros = [UInt8](repeating: 0, count: torn.count)
        // A partial header, a full header with a partial payload, a full record that fails its
        // checksum, and the zero-filled extent a crash can leave behind.
        for tail in [Array(torn.prefix(30)), Array(torn.prefix(100)), corruptLast, zeros] {
            try appendBytes(tail, to: segment)
            let log = try ReplicationLog(directory: directory)
            XCTAssertEqual(log.lastTxid, 5)
            XCTAssertEqual(log.lastChecksum, chain[4].checksum)
            XCTAssertEqual(log.recoveredTailBytes, tail.count)
            XCTAssertEqual(try fileSize(segment), cleanSize)
        }
        do {
            let log = try ReplicationLog(directory: directory)
            try log.append(chain[5])
        }
        let log = try ReplicationLog(directory: directory)
        XCTAssertEqual(log.recoveredTailBytes, 0)
        XCTAssertEqual(try log.records(after: 0, maxBytes: .max), chain)
    }

    /// With batched fsyncs a power failure can leave any unsynced record of the newest segment
    /// damaged while later ones reached the disk intact (pages are written back in any order):
    /// the segment is cut at the first damaged record, never served past it.
    func testDamageInsideTheNewestSegmentCutsItThere() throws {
        let directory = newDirectory()
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory, syncIntervalMs: 60_000)
            chain = try F.chain(generation: log.generation, count: 5)
            for record in chain { try log.append(record) }
        }
        let segment = directory.appendingPathComponent("00000000000000000001.ojsr")
        var bytes = try [UInt8](Data(contentsOf: segment))
        let third = chain[0].bytes.count + chain[1].bytes.count
        bytes[third + chain[2].bytes.count - 1] ^= 0xFF
        try Data(bytes).write(to: segment)

        let log = try ReplicationLog(directory: directory, syncIntervalMs: 60_000)
        XCTAssertEqual(log.lastTxid, 2)
        XCTAssertEqual(log.lastChecksum, chain[1].checksum)
        XCTAssertEqual(log.recoveredTailBytes, bytes.count - third)
        XCTAssertEqual(try log.records(after: 0, maxBytes: .max), Array(chain.prefix(2)))
    }

    /// Batched fsyncs never leave records unsynced in a closed segment, and `sync` leaves
    /// nothing pending: both are what recovery's trust in older segments rests on.
    func testBatchedSyncKeepsTheLogReadableAndReopenable() throws {
        let directory = newDirectory()
        let probe = try F.chain(generation: .random(), count: 1)[0].bytes.count
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: probe * 2, syncIntervalMs: 60_000)
            chain = try F.chain(generation: log.generation, count: 7)
            for record in chain { try log.append(record) }
            XCTAssertEqual(log.segmentCount, 4)
            XCTAssertEqual(try log.records(after: 0, maxBytes: .max), chain)
            try log.sync()
            try log.syncIfDue()
        }
        let log = try ReplicationLog(directory: directory, segmentBytes: probe * 2)
        XCTAssertEqual(log.recoveredTailBytes, 0)
        XCTAssertEqual(try log.records(after: 0, maxBytes: .max), chain)
        XCTAssertThrowsError(try ReplicationLog(directory: newDirectory(), syncIntervalMs: -1))
    }

    func testTornFirstRecordOfNewestSegmentRemovesTheSegment() throws {
        let directory = newDirectory()
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: 1)
            chain = try F.chain(generation: log.generation, count: 4)
            for record in chain.prefix(3) { try log.append(record) }
            XCTAssertEqual(log.segmentCount, 3)
        }
        let torn = directory.appendingPathComponent("00000000000000000004.ojsr")
        XCTAssertTrue(FileManager.default.createFile(atPath: torn.path, contents: Data(chain[3].bytes.prefix(80))))
        // An empty segment is what a crash right after creating the file leaves.
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: directory.appendingPathComponent("00000000000000000005.ojsr").path,
                contents: Data()
            )
        )
        let log = try ReplicationLog(directory: directory, segmentBytes: 1)
        XCTAssertEqual(log.lastTxid, 3)
        XCTAssertEqual(log.segmentCount, 3)
        XCTAssertEqual(try segmentNames(directory).count, 3)
        try log.append(chain[3])
        XCTAssertEqual(try log.records(after: 2, maxBytes: .max).map(\.txid), [3, 4])
    }

    func testDamageOutsideTheTailFailsTheOpen() throws {
        let directory = newDirectory()
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: 1)
            for record in try F.chain(generation: log.generation, count: 3) { try log.append(record) }
        }
        let first = directory.appendingPathComponent("00000000000000000001.ojsr")
        var bytes = try [UInt8](Data(contentsOf: first))
        bytes[0] = UInt8(ascii: "X")
        try Data(bytes).write(to: first)
        XCTAssertThrowsError(try ReplicationLog(directory: directory, segmentBytes: 1)) {
            guard case ReplicationLogError.corruptSegment(let file, 0, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(file.hasSuffix("00000000000000000001.ojsr"))
        }
        // A missing middle segment is a gap, not something to paper over: the open reads only
        // first headers, so the first read of the segment before the gap finds it.
        bytes[0] = UInt8(ascii: "O")
        try Data(bytes).write(to: first)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("00000000000000000002.ojsr"))
        let log = try ReplicationLog(directory: directory, segmentBytes: 1)
        XCTAssertThrowsError(try log.records(after: 0, maxBytes: .max)) {
            guard case ReplicationLogError.corruptSegment(let file, _, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(file.hasSuffix("00000000000000000001.ojsr"))
        }
    }

    func testSegmentsRollAtTheConfiguredSize() throws {
        let directory = newDirectory()
        let probe = try F.chain(generation: .random(), count: 1)[0].bytes.count
        let segmentBytes = probe * 3 + probe / 2
        let chain: [EncodedRecord]
        do {
            let log = try ReplicationLog(directory: directory, segmentBytes: segmentBytes)
            chain = try F.chain(generation: log.generation, count: 10)
            for record in chain { try log.append(record) }
            XCTAssertEqual(log.segmentCount, 4)
        }
        XCTAssertEqual(
            try segmentNames(directory),
            ["00000000000000000001.ojsr", "00000000000000000004.ojsr", "00000000000000000007.ojsr", "00000000000000000010.ojsr"]
        )
        for name in try segmentNames(directory) {
            XCTAssertLessThanOrEqual(try fileSize(directory.appendingPathComponent(name)), segmentBytes)
        }
        let log = try ReplicationLog(directory: directory, segmentBytes: segmentBytes)
        XCTAssertEqual(log.segmentCount, 4)
        XCTAssertEqual(log.lastTxid, 10)
        XCTAssertEqual(try log.records(after: 0, maxBytes: .max), chain)
        XCTAssertEqual(try log.records(after: 5, maxBytes: .max), Array(chain[5...]))
    }

    func testRecordsAfterPagesByMaxBytes() throws {
        let directory = newDirectory()
        let log = try ReplicationLog(directory: directory, segmentBytes: 2000)
        let chain = try F.chain(generation: log.generation, count: 20)
        for record in chain { try log.append(record) }
        let size = chain[0].bytes.count

        // Smaller than one record: still makes progress one record at a time.
        XCTAssertEqual(try log.records(after: 0, maxBytes: 1).map(\.txid), [1])
        XCTAssertEqual(try log.records(after: 3, maxBytes: chain[3..<6].reduce(0) { $0 + $1.bytes.count }).map(\.txid), [4, 5, 6])

        var position: UInt64 = 0
        var collected: [EncodedRecord] = []
        while true {
            let batch = try log.records(after: position, maxBytes: size * 4)
            if batch.isEmpty { break }
            XCTAssertLessThanOrEqual(batch.reduce(0) { $0 + $1.bytes.count }, size * 4 + 64)
            collected += batch
            position = batch[batch.count - 1].txid
        }
        XCTAssertEqual(collected, chain)
        XCTAssertEqual(try log.records(after: 20, maxBytes: 1), [])
        XCTAssertThrowsError(try log.records(after: 21, maxBytes: 1)) {
            XCTAssertEqual($0 as? ReplicationLogError, .ahead(last: 20))
        }
    }

    func testChecksumAtEveryRetainedPosition() throws {
        let log = try ReplicationLog(directory: newDirectory(), segmentBytes: 1500)
        let chain = try F.chain(generation: log.generation, count: 12)
        for record in chain { try log.append(record) }
        XCTAssertEqual(try log.checksum(at: 0), 0)
        for record in chain { XCTAssertEqual(try log.checksum(at: record.txid), record.checksum) }
        XCTAssertThrowsError(try log.checksum(at: 13)) {
            XCTAssertEqual($0 as? ReplicationLogError, .ahead(last: 12))
        }
    }

    func testRetentionBySize() throws {
        let directory = newDirectory()
        let probe = try F.chain(generation: .random(), count: 1)[0].bytes.count
        // Two records per segment; keep about three segments' worth.
        let log = try ReplicationLog(
            directory: directory,
            segmentBytes: probe * 2 + probe / 2,
            retentionBytes: probe * 6 + probe / 2
        )
        let chain = try F.chain(generation: log.generation, count: 12)
        for record in chain { try log.append(record) }
        XCTAssertEqual(log.segmentCount, 6)
        XCTAssertEqual(try log.applyRetention(now: 0), 3)
        XCTAssertEqual(log.segmentCount, 3)
        XCTAssertEqual(log.firstTxid, 7)
        XCTAssertLessThanOrEqual(log.totalBytes, probe * 6 + probe / 2)
        XCTAssertEqual(try segmentNames(directory).count, 3)

        XCTAssertThrowsError(try log.records(after: 5, maxBytes: .max)) {
            XCTAssertEqual($0 as? ReplicationLogError, .trimmed(oldestAvailable: 7))
        }
        XCTAssertThrowsError(try log.checksum(at: 5)) {
            XCTAssertEqual($0 as? ReplicationLogError, .trimmed(oldestAvailable: 7))
        }
        XCTAssertEqual(try log.records(after: 6, maxBytes: .max), Array(chain[6...]))
        XCTAssertEqual(try log.checksum(at: 6), chain[5].checksum)

        // The newest segment survives any limit, and the trimmed state survives a reopen.
        let strict = try ReplicationLog(directory: directory, segmentBytes: probe * 2 + probe / 2, retentionBytes: 0)
        XCTAssertEqual(strict.firstTxid, 7)
        XCTAssertEqual(try strict.applyRetention(now: 0), 2)
        XCTAssertEqual(strict.segmentCount, 1)
        XCTAssertEqual(strict.lastTxid, 12)
        XCTAssertEqual(try strict.records(after: 10, maxBytes: .max).map(\.txid), [11, 12])
    }

    func testRetentionByAge() throws {
        let hour: Int64 = 3_600_000
        let base: Int64 = 1_700_000_000_000
        let log = try ReplicationLog(directory: newDirectory(), segmentBytes: 1, retentionAgeMs: 24 * hour)
        // One record per segment, an hour apart.
        let chain = try F.chain(generation: log.generation, count: 30) { base + Int64($0) * hour }
        for record in chain { try log.append(record) }
        XCTAssertEqual(try log.applyRetention(now: base + 20 * hour), 0)
        // At txid 30's time + 1h, records older than 24h (txids 1...6) go.
        XCTAssertEqual(try log.applyRetention(now: base + 31 * hour), 6)
        XCTAssertEqual(log.firstTxid, 7)
        // Far in the future everything is old, but the newest segment stays.
        XCTAssertEqual(try log.applyRetention(now: base + 1000 * hour), 23)
        XCTAssertEqual(log.firstTxid, 30)
        XCTAssertEqual(log.lastTxid, 30)
        XCTAssertEqual(try log.records(after: 29, maxBytes: .max), [chain[29]])
    }

    func testConcurrentReadersSeeAConsistentPrefix() async throws {
        let log = try ReplicationLog(directory: newDirectory(), segmentBytes: 4096, retentionBytes: 1 << 30)
        let chain = try F.chain(generation: log.generation, count: 200)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for record in chain { try log.append(record) }
            }
            for _ in 0..<3 {
                group.addTask {
                    var position: UInt64 = 0
                    while position < 200 {
                        let batch = try log.records(after: position, maxBytes: 3000)
                        for record in batch {
                            XCTAssertEqual(record.txid, position + 1)
                            XCTAssertEqual(record, chain[Int(record.txid) - 1])
                            position = record.txid
                        }
                        if batch.isEmpty { await Task.yield() }
                    }
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(log.lastTxid, 200)
    }
}
