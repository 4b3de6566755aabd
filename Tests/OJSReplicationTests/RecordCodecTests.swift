import XCTest

@testable import OJSReplication

final class RecordCodecTests: XCTestCase {
    typealias F = RecordFixtures
    let generation = Generation.random()

    func testRoundTripAcrossPageSizesAndCounts() throws {
        var rng = F.SplitMix64(seed: 42)
        var previous: UInt32 = 0
        var txid: UInt64 = 1
        for pageSize in [512, 1024, 4096, 8192, 65536] as [UInt32] {
            for count in [0, 1, 2, 7, 33] where pageSize < 65536 || count <= 7 {
                let numbers = F.pageNumbers(count, using: &rng)
                let pages = numbers.map { Page(number: $0, data: F.randomBytes(Int(pageSize), using: &rng)) }
                let record = Record.transaction(
                    generation: generation,
                    txid: txid,
                    commitTime: Int64.random(in: 0...Int64.max, using: &rng),
                    pageSize: pageSize,
                    databasePages: UInt32.random(in: 1...UInt32.max, using: &rng),
                    pages: pages
                )
                let encoded = try RecordCodec.encode(record, previousChecksum: previous)
                XCTAssertEqual(encoded.txid, txid)
                XCTAssertEqual(encoded.rawPayloadBytes, count * (4 + Int(pageSize)))
                let decoded = try RecordCodec.decode(encoded.bytes[...], expectedPrevious: previous)
                XCTAssertEqual(decoded.record, record)
                XCTAssertEqual(decoded.checksum, encoded.checksum)
                XCTAssertEqual(decoded.length, encoded.bytes.count)
                previous = encoded.checksum
                txid += 1
            }
        }
    }

    func testDecodeReadsOneRecordFromConcatenatedBytesAndNonZeroSliceStart() throws {
        let chain = try F.chain(generation: generation, count: 3)
        let joined = [0xAA, 0xBB] + chain.flatMap(\.bytes)
        var offset = 2
        var previous: UInt32 = 0
        for encoded in chain {
            let decoded = try RecordCodec.decode(joined[offset...], expectedPrevious: previous)
            XCTAssertEqual(decoded.length, encoded.bytes.count)
            XCTAssertEqual(decoded.record.txid, encoded.txid)
            previous = decoded.checksum
            offset += decoded.length
        }
        XCTAssertEqual(offset, joined.count)
    }

    func testHeaderLayoutAndChecksumMatchTheDocument() throws {
        let record = F.transaction(
            generation: generation,
            txid: 0x0102_0304_0506_0708,
            commitTime: -5,
            pageSize: 1024,
            pages: 3
        )
        let encoded = try RecordCodec.encode(record, previousChecksum: 0xDEAD_BEEF)
        let b = encoded.bytes
        XCTAssertEqual(Array(b[0..<4]), Array("OJSR".utf8))
        XCTAssertEqual(b[4], 1)
        XCTAssertEqual(b[5], 1)
        XCTAssertEqual(Array(b[6..<8]), [0, 0])
        XCTAssertEqual(Array(b[8..<24]), generation.bytes)
        XCTAssertEqual(Array(b[24..<32]), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(F.be(b, 32, Int64.self), -5)
        XCTAssertEqual(F.be(b, 40, UInt32.self), 1024)
        XCTAssertEqual(F.be(b, 44, UInt32.self), record.databasePages)
        XCTAssertEqual(F.be(b, 48, UInt32.self), 3)
        XCTAssertEqual(F.be(b, 52, UInt32.self), 3 * (4 + 1024))
        XCTAssertEqual(Int(F.be(b, 56, UInt32.self)), b.count - 68)
        XCTAssertEqual(F.be(b, 60, UInt32.self), 0xDEAD_BEEF)
        let expected = F.crc32(F.crc32(0xDEAD_BEEF, b[0..<64]), b[68...])
        XCTAssertEqual(F.be(b, 64, UInt32.self), expected)
        XCTAssertEqual(encoded.checksum, expected)

        // The payload is a zlib stream of (page number, image) pairs in page order.
        let header = try RecordCodec.peekHeader(b[...])
        XCTAssertEqual(header.recordLength, b.count)
        XCTAssertEqual(header.pageCount, 3)
        XCTAssertEqual(header.previousChecksum, 0xDEAD_BEEF)
        XCTAssertEqual(b[68] & 0x0F, 8, "zlib header: deflate method")
        XCTAssertEqual((UInt16(b[68]) << 8 | UInt16(b[69])) % 31, 0, "zlib header check bits")
    }

    func testCompressionShrinksTypicalPages() throws {
        let pages = (1...16).map { Page(number: UInt32($0), data: F.typicalPage(size: 4096, seed: $0)) }
        let record = Record.transaction(
            generation: generation,
            txid: 1,
            commitTime: 0,
            pageSize: 4096,
            databasePages: 16,
            pages: pages
        )
        let fast = try RecordCodec.encode(record, previousChecksum: 0)
        XCTAssertLessThan(fast.bytes.count * 4, fast.rawPayloadBytes, "level 1 should shrink typical pages 4x+")
        let best = try RecordCodec.encode(record, previousChecksum: 0, level: 9)
        XCTAssertLessThanOrEqual(best.bytes.count, fast.bytes.count)
        XCTAssertEqual(try RecordCodec.decode(best.bytes[...], expectedPrevious: 0).record, record)
        XCTAssertThrowsError(try RecordCodec.encode(record, previousChecksum: 0, level: 10)) {
            guard case RecordError.invalidRecord = $0 else { return XCTFail("\($0)") }
        }
    }

    func testChecksumChainIsVerified() throws {
        let chain = try F.chain(generation: generation, count: 4)
        var previous: UInt32 = 0
        for encoded in chain {
            XCTAssertEqual(encoded.previousChecksum, previous)
            XCTAssertEqual(try RecordCodec.decode(encoded.bytes[...], expectedPrevious: previous).checksum, encoded.checksum)
            previous = encoded.checksum
        }
        // Record 3 offered where record 2's successor is not expected.
        XCTAssertThrowsError(try RecordCodec.decode(chain[2].bytes[...], expectedPrevious: chain[0].checksum)) {
            XCTAssertEqual($0 as? RecordError, .chainBroken(txid: 3, expectedPrevious: chain[0].checksum, found: chain[1].checksum))
        }
        // Without an expectation the record is still verified against its own checksum.
        XCTAssertNoThrow(try RecordCodec.decode(chain[2].bytes[...], expectedPrevious: nil))
    }

    func testEveryFlippedByteIsDetected() throws {
        let record = F.transaction(generation: generation, txid: 2, pageSize: 512, pages: 1)
        let encoded = try RecordCodec.encode(record, previousChecksum: 77)
        for position in encoded.bytes.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = encoded.bytes
                bytes[position] ^= mask
                XCTAssertThrowsError(
                    try RecordCodec.decode(bytes[...], expectedPrevious: nil),
                    "flip \(mask) at \(position) went undetected"
                ) {
                    XCTAssertTrue($0 is RecordError)
                }
            }
        }
    }

    func testTruncatedInputIsReportedAsTruncated() throws {
        let encoded = try RecordCodec.encode(F.transaction(generation: generation, txid: 1, pages: 2), previousChecksum: 0)
        for length in 0..<encoded.bytes.count {
            XCTAssertThrowsError(try RecordCodec.decode(encoded.bytes[0..<length], expectedPrevious: nil)) {
                XCTAssertEqual($0 as? RecordError, .truncated, "prefix of \(length) bytes")
            }
        }
        XCTAssertThrowsError(try RecordCodec.peekHeader(encoded.bytes[0..<67])) {
            XCTAssertEqual($0 as? RecordError, .truncated)
        }
    }

    func testSpecificHeaderErrors() throws {
        let good = try RecordCodec.encode(F.transaction(generation: generation, txid: 1, pages: 1), previousChecksum: 0).bytes
        func decodeError(_ edit: (inout [UInt8]) -> Void, reseal: Bool = true) -> RecordError? {
            var bytes = good
            edit(&bytes)
            if reseal { bytes = F.resealed(bytes) }
            do {
                _ = try RecordCodec.decode(bytes[...], expectedPrevious: nil)
                return nil
            } catch {
                return error as? RecordError
            }
        }
        XCTAssertEqual(decodeError({ $0[0] = UInt8(ascii: "X") }), .badMagic)
        XCTAssertEqual(decodeError({ $0[4] = 2 }), .unsupportedVersion(2))
        XCTAssertEqual(decodeError({ $0[5] = 9 }), .unknownKind(9))
        XCTAssertEqual(decodeError({ $0[69] ^= 0xFF }, reseal: false), .checksumMismatch(txid: 1))
        let malformed: [(inout [UInt8]) -> Void] = [
            {
                $0[5] = 3
                $0[6] = 0xFF
                $0[7] = 0xFF
            },  // a part past the 65,536-part limit
            { $0[42] = 0x03 },  // page size 0x0300 + ... not a power of two
            {
                $0[40] = 0
                $0[41] = 0
                $0[42] = 1
                $0[43] = 0
            },  // page size 256
            {
                $0[40] = 0
                $0[41] = 2
                $0[42] = 0
                $0[43] = 0
            },  // page size 131072
            { $0[51] = 2 },  // page count disagrees with payload length
            { $0[56] = 0x10 },  // compressed length 256 MiB+
            { for i in 56..<60 { $0[i] = 0 } },  // compressed length 0
            {
                F.storeBE(UInt32(100_000), &$0, 48)
                F.storeBE(UInt32(100_000 * 516), &$0, 52)
            },  // inflation bomb
            {
                $0[31] = 0
                $0[30] = 0
            },  // txid 0 (was 1)
            { $0[63] = 1 },  // txid 1 chaining from non-zero
        ]
        for (index, edit) in malformed.enumerated() {
            guard case .malformedHeader? = decodeError(edit) else {
                XCTFail("case \(index): \(String(describing: decodeError(edit)))")
                continue
            }
        }
    }

    func testResealedCorruptPayloadIsCorruptPayload() throws {
        let good = try RecordCodec.encode(F.transaction(generation: generation, txid: 1, pages: 3), previousChecksum: 0).bytes
        var rng = F.SplitMix64(seed: 7)
        for _ in 0..<500 {
            var bytes = good
            let position = Int.random(in: 68..<bytes.count, using: &rng)
            bytes[position] ^= UInt8.random(in: 1...255, using: &rng)
            bytes = F.resealed(bytes)
            XCTAssertThrowsError(try RecordCodec.decode(bytes[...], expectedPrevious: nil)) {
                guard case RecordError.corruptPayload = $0 else { return XCTFail("\($0)") }
            }
        }
    }

    func testPageListInsideAnIntactPayloadIsValidated() throws {
        // Level 0 stores the payload verbatim (after a 2-byte zlib header and a 5-byte stored
        // block header), so page numbers can be edited in place; then the Adler-32 trailer and
        // the record checksum are recomputed, leaving only the page-order rule to catch it.
        let record = Record.transaction(
            generation: generation,
            txid: 1,
            commitTime: 0,
            pageSize: 512,
            databasePages: 9,
            pages: [
                Page(number: 3, data: .init(repeating: 1, count: 512)),
                Page(number: 5, data: .init(repeating: 2, count: 512)),
            ]
        )
        let stored = try RecordCodec.encode(record, previousChecksum: 0, level: 0).bytes
        XCTAssertEqual(try RecordCodec.decode(stored[...], expectedPrevious: 0).record, record)
        let payloadStart = 68 + 2 + 5
        XCTAssertEqual(Array(stored[payloadStart..<(payloadStart + 4)]), [0, 0, 0, 3])
        for (secondNumber, firstNumber) in [(UInt8(3), UInt8(3)), (2, 3), (5, 0)] {
            var bytes = stored
            bytes[payloadStart + 3] = firstNumber
            bytes[payloadStart + 516 + 3] = secondNumber
            let payload = bytes[payloadStart..<(payloadStart + 2 * 516)]
            var a: UInt32 = 1
            var b: UInt32 = 0
            for byte in payload {
                a = (a + UInt32(byte)) % 65521
                b = (b + a) % 65521
            }
            let adler = b << 16 | a
            for i in 0..<4 { bytes[bytes.count - 4 + i] = UInt8(truncatingIfNeeded: adler >> (24 - 8 * i)) }
            bytes = F.resealed(bytes)
            XCTAssertThrowsError(try RecordCodec.decode(bytes[...], expectedPrevious: 0)) {
                guard case RecordError.corruptPayload(let why) = $0 else { return XCTFail("\($0)") }
                XCTAssertFalse(why.contains("inflate"), why)
            }
        }
    }

    func testEncoderRejectsRecordsItCannotRepresent() {
        let page = Page(number: 1, data: .init(repeating: 0, count: 512))
        let cases: [(Record, UInt32)] = [
            (
                Record.transaction(
                    generation: generation,
                    txid: 1,
                    commitTime: 0,
                    pageSize: 512,
                    databasePages: 1,
                    pages: [Page(number: 2, data: page.data), page]
                ), 0
            ),
            (
                Record.transaction(
                    generation: generation,
                    txid: 1,
                    commitTime: 0,
                    pageSize: 512,
                    databasePages: 1,
                    pages: [Page(number: 0, data: page.data)]
                ), 0
            ),
            (
                Record.transaction(
                    generation: generation,
                    txid: 1,
                    commitTime: 0,
                    pageSize: 1024,
                    databasePages: 1,
                    pages: [page]
                ), 0
            ),
            (
                Record.transaction(
                    generation: generation,
                    txid: 1,
                    commitTime: 0,
                    pageSize: 500,
                    databasePages: 1,
                    pages: [Page(number: 1, data: .init(repeating: 0, count: 500))]
                ), 0
            ),
            (
                Record.transaction(
                    generation: generation,
                    txid: 0,
                    commitTime: 0,
                    pageSize: 512,
                    databasePages: 1,
                    pages: [page]
                ), 0
            ),
            (
                Record.transaction(
                    generation: generation,
                    txid: 1,
                    commitTime: 0,
                    pageSize: 512,
                    databasePages: 1,
                    pages: [page]
                ), 99
            ),
            (
                Record(
                    kind: .heartbeat,
                    generation: generation,
                    txid: 1,
                    commitTime: 0,
                    pageSize: 512,
                    databasePages: 1,
                    pages: [page]
                ), 0
            ),
        ]
        for (index, (record, previous)) in cases.enumerated() {
            XCTAssertThrowsError(try RecordCodec.encode(record, previousChecksum: previous), "case \(index)") {
                guard case RecordError.invalidRecord = $0 else { return XCTFail("case \(index): \($0)") }
            }
        }
    }

    func testHeartbeatRoundTrip() throws {
        let heartbeat = Record.heartbeat(
            generation: generation,
            lastTxid: 41,
            now: 1_700_000_123_456,
            pageSize: 4096,
            databasePages: 12
        )
        let encoded = try RecordCodec.encode(heartbeat, previousChecksum: 0xABCD)
        XCTAssertEqual(encoded.bytes.count, RecordCodec.headerSize)
        XCTAssertEqual(encoded.kind, .heartbeat)
        XCTAssertEqual(encoded.bytes[5], 2)
        XCTAssertEqual(encoded.checksum, F.crc32(F.crc32(0xABCD, encoded.bytes[0..<64]), []))
        let decoded = try RecordCodec.decode(encoded.bytes[...], expectedPrevious: 0xABCD)
        XCTAssertEqual(decoded.record, heartbeat)
        // A primary with no transactions yet may not know a page size.
        let empty = Record.heartbeat(generation: generation, lastTxid: 0, now: 1, pageSize: 0, databasePages: 0)
        XCTAssertEqual(
            try RecordCodec.decode(
                try RecordCodec.encode(empty, previousChecksum: 0).bytes[...],
                expectedPrevious: 0
            ).record,
            empty
        )
    }

    func testRandomGarbageNeverCrashes() {
        var rng = F.SplitMix64(seed: 0xF00D)
        let validPrefix = Array("OJSR".utf8) + [1]
        for round in 0..<4000 {
            var bytes = F.randomBytes(Int.random(in: 0...400, using: &rng), using: &rng)
            // Half the buffers get a believable start so they reach the deeper checks.
            if round % 2 == 0, bytes.count >= 6 {
                bytes.replaceSubrange(0..<5, with: validPrefix)
                bytes[5] = UInt8.random(in: 1...2, using: &rng)
            }
            if round % 4 == 0, bytes.count >= 68 { bytes = F.resealed(bytes) }
            do {
                _ = try RecordCodec.decode(bytes[...], expectedPrevious: nil)
            } catch {
                XCTAssertTrue(error is RecordError)
            }
            var stream = RecordStreamDecoder(generation: nil)
            stream.feed(bytes)
            _ = try? stream.drain()
        }
    }

    func testGenerationText() throws {
        let generation = Generation.random()
        XCTAssertEqual(generation.bytes.count, 16)
        XCTAssertEqual(generation.text.count, 36)
        XCTAssertEqual(generation.text, generation.text.lowercased())
        XCTAssertEqual(Generation(text: generation.text), generation)
        XCTAssertEqual(Generation(text: generation.text.uppercased()), generation)
        XCTAssertEqual(Generation(text: generation.text.replacingOccurrences(of: "-", with: "")), generation)
        XCTAssertEqual(
            Generation(text: "00112233-4455-6677-8899-aabbccddeeff")?.bytes,
            [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF]
        )
        for bad in [
            "", "xyz", "00112233-4455-6677-8899-aabbccddeefg", "0011223344-55-6677-8899-aabbccddeeff",
            "00112233-4455-6677-8899-aabbccddeeff0", "é0112233-4455-6677-8899-aabbccddeef",
        ] {
            XCTAssertNil(Generation(text: bad), bad)
        }
        XCTAssertNotEqual(Generation.random(), Generation.random())
    }

    func testEncodedRecordVerifyingInit() throws {
        let encoded = try RecordCodec.encode(F.transaction(generation: generation, txid: 1), previousChecksum: 0)
        XCTAssertEqual(try EncodedRecord(verifying: encoded.bytes), encoded)
        var corrupt = encoded.bytes
        corrupt[corrupt.count - 1] ^= 1
        XCTAssertThrowsError(try EncodedRecord(verifying: corrupt)) {
            XCTAssertEqual($0 as? RecordError, .checksumMismatch(txid: 1))
        }
        XCTAssertThrowsError(try EncodedRecord(verifying: encoded.bytes + [0]))
        XCTAssertThrowsError(try EncodedRecord(verifying: Array(encoded.bytes.dropLast()))) {
            XCTAssertEqual($0 as? RecordError, .truncated)
        }
    }
}
