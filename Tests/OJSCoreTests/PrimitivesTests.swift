import XCTest

@testable import OJSCore

final class PrimitivesTests: XCTestCase {
    func testUUIDv7IsLowercaseVersion7AndTimeOrdered() {
        let a = UUIDv7.make(millis: 1_700_000_000_000)
        let b = UUIDv7.make(millis: 1_700_000_000_001)
        XCTAssertTrue(UUIDv7.isValid(a), a)
        XCTAssertEqual(a, a.lowercased())
        XCTAssertLessThan(a, b)
        XCTAssertTrue(a.hasPrefix("018bcfe5-6800-7"))
        XCTAssertFalse(UUIDv7.isValid("550e8400-e29b-41d4-a716-446655440000"))  // v4
        XCTAssertFalse(UUIDv7.isValid(a.uppercased()))
        XCTAssertFalse(UUIDv7.isValid(""))
    }

    func testTimestampsFormatAndParse() {
        XCTAssertEqual(Timestamp.format(millis: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.format(millis: 1_770_892_200_123), "2026-02-12T10:30:00.123Z")
        XCTAssertEqual(Timestamp.parse("2026-02-12T10:30:00.123Z"), 1_770_892_200_123)
        XCTAssertEqual(Timestamp.parse("2026-02-12T11:30:00+01:00"), 1_770_892_200_000)
        XCTAssertEqual(Timestamp.parse("2099-12-31T23:59:59Z"), 4_102_444_799_000)
        XCTAssertNil(Timestamp.parse("2026-02-12T10:30:00"), "a time without a zone is ambiguous")
        XCTAssertNil(Timestamp.parse("2026-02-30T10:30:00Z"))
        XCTAssertNil(Timestamp.parse("yesterday"))
        for ms: Int64 in [-86_400_001, 951_782_400_000, 4_102_444_799_999] {
            XCTAssertEqual(Timestamp.parse(Timestamp.format(millis: ms)), ms)
        }
    }

    func testISODurations() {
        XCTAssertEqual(ISODuration.parseMillis("PT1S"), 1000)
        XCTAssertEqual(ISODuration.parseMillis("PT0.5S"), 500)
        XCTAssertEqual(ISODuration.parseMillis("PT5M"), 300_000)
        XCTAssertEqual(ISODuration.parseMillis("P1DT2H"), 93_600_000)
        XCTAssertEqual(ISODuration.parseMillis("P2W"), 1_209_600_000)
        for bad in ["", "P", "PT", "1S", "PT1X", "P1M", "PTS", "PT1S2M"] { XCTAssertNil(ISODuration.parseMillis(bad), bad) }
        XCTAssertEqual(ISODuration.format(millis: 1000), "PT1S")
        XCTAssertEqual(ISODuration.format(millis: 300_000), "PT5M")
        XCTAssertEqual(ISODuration.format(millis: 1500), "PT1.5S")
        XCTAssertEqual(ISODuration.format(millis: 3_723_000), "PT1H2M3S")
    }

    func testSHA256AndHMACVectors() {
        XCTAssertEqual(Digests.sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(Digests.sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            Digests.sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
        // RFC 4231 test case 2.
        let mac = Digests.hmacSHA256Hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testConstantTimeEqualityAndSignatureCheck() {
        XCTAssertTrue(ConstantTime.equal("k1", "k1"))
        XCTAssertFalse(ConstantTime.equal("k1", "k2"))
        XCTAssertFalse(ConstantTime.equal("k1", "k1 "), "a longer key with the right prefix must not match")
        XCTAssertFalse(ConstantTime.equal("", "k1"))
        let body = Array(#"{"job":{}}"#.utf8)
        let header = DeliverySignature.header(body: body, secret: "s3cret")
        XCTAssertTrue(DeliverySignature.verify(header: header, body: body, secret: "s3cret"))
        XCTAssertFalse(DeliverySignature.verify(header: header, body: body + [0x20], secret: "s3cret"))
        XCTAssertFalse(DeliverySignature.verify(header: header, body: body, secret: "other"))
    }

    func testStateMachine() {
        XCTAssertTrue(JobState.available.canTransition(to: .active))
        XCTAssertTrue(JobState.active.canTransition(to: .completed))
        XCTAssertTrue(JobState.discarded.canTransition(to: .available))
        XCTAssertFalse(JobState.completed.canTransition(to: .cancelled))
        XCTAssertFalse(JobState.cancelled.canTransition(to: .available))
        XCTAssertFalse(JobState.scheduled.canTransition(to: .active))
        XCTAssertEqual(JobState.allCases.filter(\.isTerminal), [.completed, .cancelled, .discarded])
    }
}
