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

    // MARK: classification

    func outcome(_ status: Int, _ body: String = "", retryAfter: String? = nil) -> DeliveryOutcome {
        DeliveryOutcome.classify(status: status, body: Array(body.utf8), retryAfter: retryAfter, now: 0)
    }

    func testReceiptsInA200() {
        XCTAssertEqual(outcome(200, #"{"status":"completed","result":{"n":1}}"#), .completed(result: ["n": 1]))
        XCTAssertEqual(outcome(204), .completed(result: nil))
        guard case .failed(let f) = outcome(200, #"{"status":"failed","error":{"code":"boom","message":"no","retryable":false}}"#) else {
            return XCTFail("expected failed")
        }
        XCTAssertEqual(f.code, "boom")
        XCTAssertEqual(f.retryable, false)
        guard case .failed(let g) = outcome(200, #"{"status":"failed","error":"plain text"}"#) else { return XCTFail("expected failed") }
        XCTAssertEqual(g.message, "plain text")
        guard case .error(let bad) = outcome(200, "not json") else { return XCTFail("expected error") }
        XCTAssertEqual(bad.code, "invalid_receipt")
        guard case .error = outcome(200, #"{"status":"maybe"}"#) else { return XCTFail("expected error") }
    }

    func testStatusClasses() {
        XCTAssertEqual(outcome(202), .accepted)
        for status in [401, 403, 404] {
            guard case .disabled = outcome(status) else { return XCTFail("\(status) should disable") }
        }
        XCTAssertEqual(outcome(429, retryAfter: "2"), .throttled(retryAfterMs: 2000))
        XCTAssertEqual(outcome(429), .throttled(retryAfterMs: nil))
        guard case .rejected(let r) = outcome(422, "bad args") else { return XCTFail("expected rejected") }
        XCTAssertEqual(r.retryable, false)
        guard case .error(let e) = outcome(503) else { return XCTFail("expected error") }
        XCTAssertEqual(e.retryable, true)
        XCTAssertEqual(DeliveryOutcome.timedOut(afterMs: 5).label, "timeout")
        XCTAssertEqual(outcome(503).effect, .failure)
        XCTAssertEqual(outcome(422).effect, .neutral)
        XCTAssertEqual(outcome(429).effect, .neutral)
        XCTAssertEqual(outcome(200, #"{"status":"failed"}"#).effect, .success)
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

    // MARK: Retry-After

    func testRetryAfter() {
        XCTAssertEqual(RetryAfter.parse("3", now: 0), 3000)
        XCTAssertEqual(RetryAfter.parse(" 0.25 ", now: 0), 250)
        XCTAssertEqual(RetryAfter.parse("Thu, 01 Jan 1970 00:00:10 GMT", now: 4000), 6000)
        XCTAssertNil(RetryAfter.parse("soon", now: 0))
        XCTAssertEqual(RetryAfter.parse("999999999", now: 0), RetryAfter.maxMs)
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
            ), queue: "emails")
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
            #"{"url":"http://x/","secret":"s","rate":{"per_second":-1}}"#, #"{"url":"http://x/","secret":"s","timeout_ms":10,"receipt_timeout_ms":5}"#,
        ] {
            XCTAssertThrowsError(try PushEndpointConfig.parse(try JSONParser.parse(bad), queue: "q"), bad)
        }
        let file = try PushEndpointConfig.parseFile(try JSONParser.parse(#"{"endpoints":[{"queue":"a","url":"http://x/","secret":"s"}]}"#))
        XCTAssertEqual(file.map(\.queue), ["a"])
        XCTAssertThrowsError(
            try PushEndpointConfig.parseFile(
                try JSONParser.parse(#"[{"queue":"a","url":"http://x/","secret":"s"},{"queue":"a","url":"http://y/","secret":"s"}]"#)))
    }
}
