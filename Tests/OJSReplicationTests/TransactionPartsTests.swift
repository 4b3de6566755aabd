import Foundation
import XCTest

@testable import OJSReplication

/// Transactions shipped in several records (docs/replication-protocol.md, "Transactions in
/// several records"): the encoder splits, the stream decoder reassembles and rejects every
/// broken sequence of parts.
final class TransactionPartsTests: XCTestCase {
    typealias F = RecordFixtures
    let generation = Generation.random()
    let pageSize: UInt32 = 512

    /// Transaction `txid` with `pageCount` pages, encoded with room for `perPart` pages per
    /// record, chained from `previous`.
    func parts(txid: UInt64 = 1, pageCount: Int = 10, perPart: Int = 3, previous: UInt32 = 0, seed: UInt64 = 7) throws -> [EncodedRecord] {
        var rng = F.SplitMix64(seed: seed)
        let numbers = F.pageNumbers(pageCount, using: &rng)
        let images = Dictionary(uniqueKeysWithValues: numbers.map { ($0, F.randomBytes(Int(pageSize), using: &rng)) })
        let encoder = TransactionEncoder(partPageBytes: perPart * (4 + Int(pageSize)))
        var out: [EncodedRecord] = []
        try encoder.encode(
            generation: generation,
            txid: txid,
            commitTime: 1_700_000_000_000,
            pageSize: pageSize,
            databasePages: (numbers.last ?? 1) + 1,
            pageNumbers: numbers,
            previousChecksum: previous,
            image: { images[$0] ?? [] },
            emit: { out.append($0) }
        )
        return out
    }

    func decode(
        _ records: [[UInt8]],
        lastTxid: UInt64 = 0,
        lastChecksum: UInt32 = 0
    ) throws -> (records: [StreamedRecord], decoder: RecordStreamDecoder) {
        var decoder = RecordStreamDecoder(generation: generation, lastTxid: lastTxid, lastChecksum: lastChecksum)
        var out: [StreamedRecord] = []
        for bytes in records {
            decoder.feed(bytes)
            out += try decoder.drain()
        }
        return (out, decoder)
    }

    func testALargeTransactionIsSplitIntoChainedPartsThatReassemble() throws {
        let records = try parts(pageCount: 10, perPart: 3)
        XCTAssertEqual(records.map(\.part), [0, 1, 2, 3])
        XCTAssertEqual(records.map(\.kind), [.transactionPart, .transactionPart, .transactionPart, .transaction])
        XCTAssertEqual(Set(records.map(\.txid)), [1])
        for (previous, next) in zip(records, records.dropFirst()) { XCTAssertEqual(next.previousChecksum, previous.checksum) }

        let (decoded, decoder) = try decode(records.map(\.bytes))
        XCTAssertEqual(decoded.count, 4)
        XCTAssertEqual(decoded.flatMap(\.record.pages).count, 10)
        let numbers = decoded.flatMap(\.record.pages).map(\.number)
        XCTAssertEqual(numbers, numbers.sorted(), "pages ascend across parts")
        XCTAssertEqual(decoder.lastTxid, 1, "complete once the last part arrived")
        XCTAssertEqual(decoder.lastChecksum, records.last?.checksum, "the chain continues from the last part")
        XCTAssertNoThrow(try decoder.finish())
    }

    func testASmallTransactionIsStillOneRecordWithPartZero() throws {
        let records = try parts(pageCount: 2, perPart: 3)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records[0].kind, .transaction)
        XCTAssertEqual(F.be(records[0].bytes, 6, UInt16.self), 0, "bytes 6-7 stay 0: the same bytes as before parts existed")
    }

    func testTheNextTransactionChainsFromTheLastPart() throws {
        let first = try parts(txid: 1)
        let second = try parts(txid: 2, pageCount: 2, previous: first.last!.checksum, seed: 9)
        let (decoded, decoder) = try decode((first + second).map(\.bytes))
        XCTAssertEqual(decoded.last?.record.txid, 2)
        XCTAssertEqual(decoder.lastTxid, 2)
    }

    func testACorruptPartIsRejected() throws {
        var records = try parts().map(\.bytes)
        records[1][records[1].count - 3] ^= 0x40
        XCTAssertThrowsError(try decode(records)) {
            XCTAssertEqual($0 as? RecordError, .checksumMismatch(txid: 1))
        }
    }

    func testAMissingPartIsRejected() throws {
        var records = try parts().map(\.bytes)
        records.remove(at: 2)
        XCTAssertThrowsError(try decode(records)) {
            XCTAssertEqual($0 as? RecordError, .unexpectedPart(txid: 1, expected: 2, got: 3))
        }
    }

    func testAMissingFirstPartIsRejected() throws {
        let records = try parts().map(\.bytes)
        XCTAssertThrowsError(try decode(Array(records.dropFirst()))) {
            XCTAssertEqual($0 as? RecordError, .unexpectedPart(txid: 1, expected: 0, got: 1))
        }
    }

    func testPartsOutOfOrderAreRejected() throws {
        var records = try parts().map(\.bytes)
        records.swapAt(1, 2)
        XCTAssertThrowsError(try decode(records)) {
            XCTAssertEqual($0 as? RecordError, .unexpectedPart(txid: 1, expected: 1, got: 2))
        }
    }

    func testARepeatedPartIsRejected() throws {
        var records = try parts().map(\.bytes)
        records.insert(records[1], at: 2)
        XCTAssertThrowsError(try decode(records)) {
            XCTAssertEqual($0 as? RecordError, .unexpectedPart(txid: 1, expected: 2, got: 1))
        }
    }

    func testAPartFromAnotherTransactionVersionBreaksTheChain() throws {
        // Same txid and part number, but encoded on a different history: the chain catches it.
        let records = try parts(txid: 2, previous: 0x5678).map(\.bytes)
        let forged = try parts(txid: 2, previous: 0x1234).map(\.bytes)
        XCTAssertThrowsError(try decode([records[0], forged[1]], lastTxid: 1, lastChecksum: 0x5678)) {
            guard case .chainBroken(txid: 2, _, _) = $0 as? RecordError else { return XCTFail("\($0)") }
        }
    }

    func testAStreamThatEndsBetweenPartsIsIncomplete() throws {
        let records = try parts().map(\.bytes)
        let (decoded, decoder) = try decode(Array(records.prefix(2)))
        XCTAssertEqual(decoded.count, 2, "the parts that arrived are handed out (the replica spools them)")
        XCTAssertEqual(decoder.lastTxid, 0, "but the position does not move")
        XCTAssertThrowsError(try decoder.finish()) {
            XCTAssertEqual($0 as? RecordError, .incompleteTransaction(txid: 1, partsReceived: 2))
        }
    }

    func testAPartTruncatedInTheMiddleIsNeverReturned() throws {
        let records = try parts().map(\.bytes)
        let cut = Array(records[1].prefix(records[1].count / 2))
        let (decoded, decoder) = try decode([records[0], cut])
        XCTAssertEqual(decoded.count, 1)
        XCTAssertThrowsError(try decoder.finish()) { XCTAssertEqual($0 as? RecordError, .truncated) }
    }

    func testAHeartbeatBetweenPartsIsRejected() throws {
        let records = try parts().map(\.bytes)
        let heartbeat = try RecordCodec.encode(
            .heartbeat(generation: generation, lastTxid: 0, now: 1, pageSize: pageSize, databasePages: 1),
            previousChecksum: 0
        )
        XCTAssertThrowsError(try decode([records[0], heartbeat.bytes])) {
            XCTAssertEqual($0 as? RecordError, .incompleteTransaction(txid: 1, partsReceived: 1))
        }
    }

    func testAPartThatDisagreesWithPartZeroIsRejected() throws {
        var records = try parts().map(\.bytes)
        // Another database size in part 1, resealed so only the part rule can catch it.
        F.storeBE(UInt32(999_999), &records[1], 44)
        records[1] = F.resealed(records[1])
        XCTAssertThrowsError(try decode(records)) {
            guard case .partMismatch(txid: 1, part: 1, _) = $0 as? RecordError else { return XCTFail("\($0)") }
        }
    }

    func testPagesMustAscendAcrossParts() throws {
        // Two records that are each valid but repeat page 5 across the part boundary.
        var first = Record(
            kind: .transactionPart,
            generation: generation,
            txid: 1,
            commitTime: 1,
            pageSize: pageSize,
            databasePages: 9,
            pages: [Page(number: 5, data: [UInt8](repeating: 1, count: Int(pageSize)))]
        )
        first.part = 0
        var second = first
        second.kind = .transaction
        second.part = 1
        let a = try RecordCodec.encode(first, previousChecksum: 0)
        let b = try RecordCodec.encode(second, previousChecksum: a.checksum)
        XCTAssertThrowsError(try decode([a.bytes, b.bytes])) {
            guard case .partMismatch(txid: 1, part: 1, _) = $0 as? RecordError else { return XCTFail("\($0)") }
        }
    }

    func testAPartWithoutPagesIsMalformed() throws {
        var empty = Record(kind: .transactionPart, generation: generation, txid: 1, commitTime: 1, pageSize: pageSize, databasePages: 9, pages: [])
        empty.part = 0
        XCTAssertThrowsError(try RecordCodec.encode(empty, previousChecksum: 0)) {
            guard case .invalidRecord = $0 as? RecordError else { return XCTFail("\($0)") }
        }
    }

    func testAHeartbeatWithAPartIndexIsMalformed() throws {
        var bytes = try RecordCodec.encode(
            .heartbeat(generation: generation, lastTxid: 0, now: 1, pageSize: pageSize, databasePages: 1),
            previousChecksum: 0
        ).bytes
        F.storeBE(UInt16(1), &bytes, 6)
        XCTAssertThrowsError(try RecordCodec.decode(F.resealed(bytes)[...], expectedPrevious: nil)) {
            guard case .malformedHeader = $0 as? RecordError else { return XCTFail("\($0)") }
        }
    }

    func testTheEncoderReadsOnePartAtATime() throws {
        // The image callback is the only source of page bytes: count what is outstanding
        // between emits to show one part's pages at most are held.
        var rng = F.SplitMix64(seed: 3)
        let numbers = F.pageNumbers(50, using: &rng)
        var read = 0
        var maxReadBetweenEmits = 0
        let encoder = TransactionEncoder(partPageBytes: 8 * (4 + Int(pageSize)))
        try encoder.encode(
            generation: generation,
            txid: 1,
            commitTime: 1,
            pageSize: pageSize,
            databasePages: 100_001,
            pageNumbers: numbers,
            previousChecksum: 0,
            image: { _ in
                read += 1
                maxReadBetweenEmits = max(maxReadBetweenEmits, read)
                return [UInt8](repeating: 7, count: 512)
            },
            emit: { _ in read = 0 }
        )
        XCTAssertEqual(maxReadBetweenEmits, 8)
    }

    func testUnsortedPagesAreRefusedByTheEncoder() {
        let encoder = TransactionEncoder(partPageBytes: 1 << 20)
        XCTAssertThrowsError(
            try encoder.encode(
                generation: generation,
                txid: 1,
                commitTime: 1,
                pageSize: pageSize,
                databasePages: 9,
                pageNumbers: [3, 2],
                previousChecksum: 0,
                image: { _ in [UInt8](repeating: 0, count: 512) },
                emit: { _ in }
            )
        )
    }
}
