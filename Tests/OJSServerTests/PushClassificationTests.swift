import OJSCore
import XCTest

@testable import OJSServer

/// A function's HTTP answer classified as the serverless binding says (moved from the core,
/// which knows nothing of HTTP).
final class PushClassificationTests: XCTestCase {
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

    // MARK: Retry-After

    func testRetryAfter() {
        XCTAssertEqual(RetryAfter.parse("3", now: 0), 3000)
        XCTAssertEqual(RetryAfter.parse(" 0.25 ", now: 0), 250)
        XCTAssertEqual(RetryAfter.parse("Thu, 01 Jan 1970 00:00:10 GMT", now: 4000), 6000)
        XCTAssertNil(RetryAfter.parse("soon", now: 0))
        XCTAssertEqual(RetryAfter.parse("999999999", now: 0), RetryAfter.maxMs)
    }
}
