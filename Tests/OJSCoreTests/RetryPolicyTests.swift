import XCTest

@testable import OJSCore

final class RetryPolicyTests: XCTestCase {
    func policy(_ json: String) throws -> RetryPolicy { try RetryPolicy.parse(try JSONParser.parse(json)) }

    func testExponentialBackoffDoublesUntilTheCap() throws {
        let p = try policy(#"{"initial_interval":"PT1S","backoff_coefficient":2.0,"max_interval":"PT5S","jitter":false}"#)
        XCTAssertEqual((1...5).map { p.delayMillis(afterAttempt: $0, unit: 0.5) }, [1000, 2000, 4000, 5000, 5000])
    }

    func testLinearConstantAndPolynomial() throws {
        let linear = try policy(#"{"backoff_strategy":"linear","jitter":false}"#)
        XCTAssertEqual((1...3).map { linear.delayMillis(afterAttempt: $0, unit: 0) }, [1000, 2000, 3000])
        let constant = try policy(#"{"backoff_coefficient":1.0,"jitter":false}"#)
        XCTAssertEqual((1...3).map { constant.delayMillis(afterAttempt: $0, unit: 0) }, [1000, 1000, 1000])
        let poly = try policy(#"{"backoff_type":"polynomial","backoff_coefficient":2,"jitter":false}"#)
        XCTAssertEqual((1...3).map { poly.delayMillis(afterAttempt: $0, unit: 0) }, [1000, 4000, 9000])
    }

    func testCapWithLargeCoefficient() throws {
        let p = try policy(#"{"backoff_coefficient":10,"max_interval":"PT2S","jitter":false}"#)
        XCTAssertEqual((1...3).map { p.delayMillis(afterAttempt: $0, unit: 0) }, [1000, 2000, 2000])
    }

    func testJitterStaysWithinHalfToOneAndAHalf() throws {
        let p = try policy(#"{"initial_interval":"PT2S","jitter":true}"#)
        XCTAssertEqual(p.delayMillis(afterAttempt: 1, unit: 0), 1000)
        XCTAssertEqual(p.delayMillis(afterAttempt: 1, unit: 0.999_999), 3000)
        XCTAssertEqual(p.delayMillis(afterAttempt: 1, unit: 0.5), 2000)
        let capped = try policy(#"{"initial_interval":"PT2S","max_interval":"PT2S","jitter":true}"#)
        XCTAssertEqual(capped.delayMillis(afterAttempt: 1, unit: 0.99), 2000, "jitter never exceeds max_interval")
    }

    func testMergesPartialPolicyWithDefaults() throws {
        let p = try policy(#"{"max_attempts":5}"#)
        XCTAssertEqual(p.maxAttempts, 5)
        XCTAssertEqual(p.initialIntervalMs, 1000)
        XCTAssertEqual(p.maxIntervalMs, 300_000)
        XCTAssertTrue(p.jitter)
        XCTAssertEqual(p.onExhaustion, .discard)
    }

    func testNonRetryablePatterns() throws {
        let p = try policy(#"{"non_retryable_errors":["Auth.*","FatalError"]}"#)
        XCTAssertTrue(p.isNonRetryable(names: ["Auth.TokenExpired"]))
        XCTAssertTrue(p.isNonRetryable(names: ["FatalError"]))
        XCTAssertFalse(p.isNonRetryable(names: ["Auth"]))
        XCTAssertFalse(p.isNonRetryable(names: ["Fatal"]))
    }

    func testFailureOutcomes() throws {
        let p = try policy(#"{"max_attempts":3,"jitter":false,"on_exhaustion":"dead_letter"}"#)
        let failure = JobFailure(code: "handler_error", message: "boom", retryable: true)
        XCTAssertEqual(
            FailureOutcome.decide(policy: p, attempt: 1, failure: failure, requeue: false, now: 10_000, unit: 0),
            .retry(delayMs: 1000, nextAttemptAt: 11_000)
        )
        XCTAssertEqual(FailureOutcome.decide(policy: p, attempt: 3, failure: failure, requeue: false, now: 0, unit: 0), .discard(deadLetter: true))
        var fatal = failure
        fatal.retryable = false
        XCTAssertEqual(FailureOutcome.decide(policy: p, attempt: 1, failure: fatal, requeue: false, now: 0, unit: 0), .discard(deadLetter: true))
        XCTAssertEqual(FailureOutcome.decide(policy: p, attempt: 1, failure: fatal, requeue: true, now: 0, unit: 0), .requeue)
    }

    func testErrorRecordShape() {
        let f = JobFailure(code: "handler_error", message: "x", details: ["error_class": "ConnectionTimeout"])
        let record = f.record(attempt: 2, occurredAt: 0)
        XCTAssertEqual(record["type"], "ConnectionTimeout")
        XCTAssertEqual(record["attempt"], 2)
        XCTAssertEqual(record["occurred_at"], "1970-01-01T00:00:00.000Z")
    }
}
