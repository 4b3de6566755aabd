import XCTest

@testable import OJSReplication

/// `RecordStreamDecoder` tests, kept in the `RecordCodecTests` class so the codec filter runs them.
extension RecordCodecTests {
    /// Transactions 1...n with a heartbeat after every third one, as a primary would stream them.
    private func streamFixture(count: Int) throws -> (bytes: [UInt8], expected: [Record]) {
        let chain = try F.chain(generation: generation, count: count, pages: 3)
        var bytes: [UInt8] = []
        var expected: [Record] = []
        for (index, encoded) in chain.enumerated() {
            bytes += encoded.bytes
            expected.append(try RecordCodec.decode(encoded.bytes[...], expectedPrevious: nil).record)
            if index % 3 == 2 {
                let heartbeat = Record.heartbeat(
                    generation: generation,
                    lastTxid: encoded.txid,
                    now: Int64(index),
                    pageSize: 512,
                    databasePages: 3
                )
                bytes += try RecordCodec.encode(heartbeat, previousChecksum: encoded.checksum).bytes
                expected.append(heartbeat)
            }
        }
        return (bytes, expected)
    }

    func testStreamDecoderFedOneByteAtATime() throws {
        let (bytes, expected) = try streamFixture(count: 10)
        var decoder = RecordStreamDecoder(generation: generation)
        var got: [StreamedRecord] = []
        for byte in bytes {
            decoder.feed(CollectionOfOne(byte))
            got += try decoder.drain()
        }
        try decoder.finish()
        XCTAssertEqual(got.map(\.record), expected)
        XCTAssertEqual(got.map(\.encoded.bytes).reduce([], +), bytes)
        XCTAssertEqual(decoder.lastTxid, 10)
        XCTAssertEqual(decoder.lastChecksum, got.last { $0.record.kind == .transaction }?.encoded.checksum)
        XCTAssertEqual(decoder.bufferedBytes, 0)
    }

    func testStreamDecoderWithRandomChunks() throws {
        let (bytes, expected) = try streamFixture(count: 25)
        var rng = F.SplitMix64(seed: 99)
        for _ in 0..<20 {
            var decoder = RecordStreamDecoder(generation: nil)
            var got: [Record] = []
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + Int.random(in: 1...900, using: &rng))
                decoder.feed(bytes[offset..<end])
                got += try decoder.drain().map(\.record)
                offset = end
            }
            XCTAssertEqual(got, expected)
            XCTAssertEqual(decoder.generation, generation)
        }
    }

    func testStreamDecoderResumesFromAPosition() throws {
        let chain = try F.chain(generation: generation, count: 6)
        var decoder = RecordStreamDecoder(generation: generation, lastTxid: 3, lastChecksum: chain[2].checksum)
        decoder.feed(chain[3...].flatMap(\.bytes))
        XCTAssertEqual(try decoder.drain().map(\.record.txid), [4, 5, 6])
    }

    func testStreamDecoderDetectsTxidGap() throws {
        let chain = try F.chain(generation: generation, count: 4)
        var decoder = RecordStreamDecoder(generation: generation)
        decoder.feed(chain[0].bytes + chain[1].bytes + chain[3].bytes)
        XCTAssertEqual(try decoder.next()?.record.txid, 1)
        XCTAssertEqual(try decoder.next()?.record.txid, 2)
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RecordError, .unexpectedTxid(expected: 3, got: 4))
        }
        // A broken stream stays broken even if the missing record shows up late.
        decoder.feed(chain[2].bytes)
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RecordError, .unexpectedTxid(expected: 3, got: 4))
        }
    }

    func testStreamDecoderDetectsGapBeforeThePayloadArrives() throws {
        let chain = try F.chain(generation: generation, count: 3)
        var decoder = RecordStreamDecoder(generation: generation, lastTxid: 1, lastChecksum: chain[0].checksum)
        decoder.feed(chain[2].bytes.prefix(RecordCodec.headerSize))
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RecordError, .unexpectedTxid(expected: 2, got: 3))
        }
    }

    func testStreamDecoderDetectsBrokenChain() throws {
        let first = try RecordCodec.encode(F.transaction(generation: generation, txid: 1), previousChecksum: 0)
        let forked = try RecordCodec.encode(F.transaction(generation: generation, txid: 2), previousChecksum: 0x1234)
        var decoder = RecordStreamDecoder(generation: generation)
        decoder.feed(first.bytes + forked.bytes)
        XCTAssertNotNil(try decoder.next())
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RecordError, .chainBroken(txid: 2, expectedPrevious: first.checksum, found: 0x1234))
        }
    }

    func testStreamDecoderChecksHeartbeats() throws {
        let chain = try F.chain(generation: generation, count: 2)
        let stale = try RecordCodec.encode(
            Record.heartbeat(generation: generation, lastTxid: 1, now: 0, pageSize: 512, databasePages: 1),
            previousChecksum: chain[0].checksum
        )
        var decoder = RecordStreamDecoder(generation: generation)
        decoder.feed(chain[0].bytes + chain[1].bytes + stale.bytes)
        XCTAssertEqual(try decoder.next()?.record.txid, 1)
        XCTAssertEqual(try decoder.next()?.record.txid, 2)
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RecordError, .unexpectedTxid(expected: 2, got: 1))
        }

        let wrongChain = try RecordCodec.encode(
            Record.heartbeat(generation: generation, lastTxid: 2, now: 0, pageSize: 512, databasePages: 1),
            previousChecksum: chain[0].checksum
        )
        var second = RecordStreamDecoder(generation: generation, lastTxid: 2, lastChecksum: chain[1].checksum)
        second.feed(wrongChain.bytes)
        XCTAssertThrowsError(try second.next()) {
            guard case RecordError.chainBroken = $0 else { return XCTFail("\($0)") }
        }
    }

    func testStreamDecoderRejectsOtherGeneration() throws {
        let other = Generation.random()
        let foreign = try F.chain(generation: other, count: 1)
        var decoder = RecordStreamDecoder(generation: generation)
        decoder.feed(foreign[0].bytes)
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RecordError, .generationMismatch(expected: generation, got: other))
        }
    }

    func testStreamDecoderReportsStreamCutInsideARecord() throws {
        let chain = try F.chain(generation: generation, count: 2)
        var decoder = RecordStreamDecoder(generation: generation)
        decoder.feed(chain[0].bytes + chain[1].bytes.dropLast(3))
        XCTAssertEqual(try decoder.drain().count, 1)
        XCTAssertThrowsError(try decoder.finish()) {
            XCTAssertEqual($0 as? RecordError, .truncated)
        }
    }
}
