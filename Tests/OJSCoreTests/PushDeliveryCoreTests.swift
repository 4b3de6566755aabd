import XCTest

@testable import OJSCore

final class PushDeliveryCoreTests: XCTestCase {
    // MARK: token bucket

    func testBucketAllowsTheBurstThenTheRate() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 3, updatedAt: 0)
        XCTAssertEqual(bucket.take(5, now: 0), 3)
        XCTAssertEqual(bucket.available(now: 0), 0)
        XCTAssertEqual(bucket.millisUntilNextToken(now: 0), 100)
        XCTAssertEqual(bucket.available(now: 250), 2)
        XCTAssertEqual(bucket.take(5, now: 1000), 3, "refills to the burst, never past it")
    }

    func testBucketOverAWindowNeverExceedsRateTimesWindowPlusBurst() {
        var bucket = TokenBucket(ratePerSecond: 4, burst: 2, updatedAt: 0)
        var taken = 0
        for now in stride(from: Int64(0), through: 3000, by: 7) { taken += bucket.take(100, now: now) }
        XCTAssertLessThanOrEqual(taken, 4 * 3 + 2)
        XCTAssertGreaterThanOrEqual(taken, 4 * 3)
    }

    func testBucketIgnoresAClockGoingBackwards() {
        var bucket = TokenBucket(ratePerSecond: 1, burst: 1, tokens: 0, updatedAt: 1000)
        bucket.refill(now: 500)
        XCTAssertEqual(bucket.available(now: 500), 0)
        XCTAssertEqual(bucket.available(now: 2000), 1)
    }

    // MARK: circuit

    func testCircuitOpensAfterTheThresholdHalfOpensAfterTheCooldownAndClosesOnSuccess() {
        var c = EndpointCircuit(changedAt: 0, failureThreshold: 3, cooldownMs: 300)
        XCTAssertEqual(c.admit(now: 0), .open)
        c.record(.failure, now: 1)
        c.record(.failure, now: 2)
        XCTAssertEqual(c.state, .active)
        c.record(.failure, now: 3)
        XCTAssertEqual(c.state, .open)
        XCTAssertEqual(c.admit(now: 100), .wait(until: 303))
        XCTAssertEqual(c.admit(now: 303), .probe)
        XCTAssertEqual(c.state, .halfOpen)
        c.record(.success, now: 310)
        XCTAssertEqual(c.state, .active)
        XCTAssertEqual(c.consecutiveFailures, 0)
    }

    func testAFailedProbeReopensAndRestartsTheCooldown() {
        var c = EndpointCircuit(state: .open, consecutiveFailures: 5, openedAt: 0, changedAt: 0, cooldownMs: 100)
        XCTAssertEqual(c.admit(now: 100), .probe)
        c.record(.failure, now: 150)
        XCTAssertEqual(c.state, .open)
        XCTAssertEqual(c.admit(now: 200), .wait(until: 250))
    }

    func testSuccessResetsTheCountAndNeutralOutcomesCountForNothing() {
        var c = EndpointCircuit(changedAt: 0, failureThreshold: 2)
        c.record(.failure, now: 1)
        c.record(.success, now: 2)
        c.record(.failure, now: 3)
        c.record(.neutral, now: 4)
        XCTAssertEqual(c.state, .active)
        XCTAssertEqual(c.consecutiveFailures, 1)
    }

    func testAStragglersSuccessDoesNotCutTheCooldownShort() {
        var c = EndpointCircuit(state: .open, openedAt: 0, changedAt: 0, cooldownMs: 100)
        c.record(.success, now: 10)
        XCTAssertEqual(c.state, .open)
    }

    func testDisableSticksUntilReset() {
        var c = EndpointCircuit(changedAt: 0)
        c.record(.disable(reason: "404"), now: 5)
        XCTAssertEqual(c.state, .disabled)
        XCTAssertEqual(c.reason, "404")
        c.record(.success, now: 6)
        XCTAssertEqual(c.admit(now: 10_000_000), .stopped)
        c.reset(now: 7)
        XCTAssertEqual(c.state, .active)
        XCTAssertNil(c.reason)
    }

    func testLateReceiptParsing() throws {
        let (id, o) = try Receipt.parseLate(try JSONParser.parse(#"{"delivery_id":"d1","status":"completed","result":7}"#))
        XCTAssertEqual(id, "d1")
        XCTAssertEqual(o, .completed(result: 7))
        XCTAssertThrowsError(try Receipt.parseLate(try JSONParser.parse(#"{"status":"completed"}"#))) { error in
            XCTAssertEqual((error as? OJSError)?.code, .invalidRequest)
        }
        XCTAssertThrowsError(try Receipt.parseLate(try JSONParser.parse(#"{"delivery_id":"d1","status":"done"}"#)))
    }

    // MARK: throttling

    func testThrottleDelayDoublesUpToAMinute() {
        XCTAssertEqual((0...7).map { RetryAfter.defaultDelayMs(streak: $0) }, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000])
    }

    // MARK: signature

    func testSignatureIsTheHexHMACOfTheBody() {
        // RFC 4231 test case 2.
        let body = Array("what do ya want for nothing?".utf8)
        let header = DeliverySignature.header(body: body, secret: "Jefe")
        XCTAssertEqual(header, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertTrue(DeliverySignature.verify(header: header, body: body, secret: "Jefe"))
        XCTAssertFalse(DeliverySignature.verify(header: header, body: body + [0x20], secret: "Jefe"))
        XCTAssertFalse(DeliverySignature.verify(header: header, body: body, secret: "jefe"))
    }

    // MARK: configuration

    func testEndpointConfigParsesAndValidates() throws {
        let c = try PushEndpointConfig.parse(
            try JSONParser.parse(
                #"{"url":"http://127.0.0.1:9/f","secret":"s3cret-0123456789","concurrency":2,"rate":{"per_second":5,"burst":3},"timeout_ms":500,"circuit_breaker":{"failure_threshold":2,"cooldown_ms":300}}"#
            ),
            queue: "emails"
        )
        XCTAssertEqual(c.queue, "emails")
        XCTAssertEqual(c.concurrency, 2)
        XCTAssertEqual(c.ratePerSecond, 5)
        XCTAssertEqual(c.burst, 3)
        XCTAssertEqual(c.timeoutMs, 500)
        XCTAssertEqual(c.receiptTimeoutMs, 300_000)
        XCTAssertEqual(c.failureThreshold, 2)
        XCTAssertEqual(c.cooldownMs, 300)
        XCTAssertEqual(c.json()["secret"], "****6789")
        for bad in [
            #"{"url":"ftp://x/","secret":"s"}"#, #"{"url":"http://x/"}"#, #"{"url":"http://x/","secret":"s","concurrency":0}"#,
            #"{"url":"http://x/","secret":"s","rate":{"per_second":-1}}"#,
            #"{"url":"http://x/","secret":"s","timeout_ms":10,"receipt_timeout_ms":5}"#,
        ] {
            XCTAssertThrowsError(try PushEndpointConfig.parse(try JSONParser.parse(bad), queue: "q"), bad)
        }
        let file = try PushEndpointConfig.parseFile(try JSONParser.parse(#"{"endpoints":[{"queue":"a","url":"http://x/","secret":"s"}]}"#))
        XCTAssertEqual(file.map(\.queue), ["a"])
        XCTAssertThrowsError(
            try PushEndpointConfig.parseFile(
                try JSONParser.parse(#"[{"queue":"a","url":"http://x/","secret":"s"},{"queue":"a","url":"http://y/","secret":"s"}]"#)
            )
        )
    }
}
