import OJSCore
import XCTest

@testable import OJSStore

/// Idempotency keys at the store: the look-up, the push and the record are one writer step.
final class IdempotencyTests: StoreTestCase {
    func claim(
        _ key: String = "key-1",
        body: String = #"{"type":"t","args":[]}"#,
        path: String = "/ojs/v1/jobs",
        windowMs: Int64 = 60_000
    )
        throws -> IdempotencyClaim
    {
        try IdempotencyClaim(key: key, method: "POST", path: path, body: Array(body.utf8), windowMs: windowMs)
    }

    static let answer: @Sendable (EnqueueOutcome) -> RecordedResponse = { outcome in
        RecordedResponse(status: 201, location: "/ojs/v1/jobs/\(outcome.job.id)", body: outcome.job.json)
    }

    func jobCount() async throws -> Int64 { try await store.read { db in try db.scalar("SELECT count(*) FROM jobs") } }

    func pushOnce(_ claim: IdempotencyClaim, spec json: String = #"{"type":"t","args":[]}"#) async throws -> IdempotentOutcome<EnqueueOutcome> {
        try await store.enqueue(try spec(json), once: claim, respond: Self.answer)
    }

    func testARepeatGetsTheFirstAnswerAndCreatesNothing() async throws {
        guard case .performed(let outcome, let first) = try await pushOnce(try claim()) else { return XCTFail("first push must run") }
        clock.advance(5_000)
        guard case .replayed(let again) = try await pushOnce(try claim()) else { return XCTFail("repeat must replay") }
        XCTAssertEqual(again, first)
        XCTAssertEqual(again.location, "/ojs/v1/jobs/\(outcome.job.id)")
        let fromReader = try await store.recordedResponse(try claim())
        XCTAssertEqual(fromReader, first)
        let count = try await jobCount()
        XCTAssertEqual(count, 1)
    }

    func testAKeyReusedForAnotherRequestIsRejected() async throws {
        _ = try await pushOnce(try claim())
        for other in [try claim(body: #"{"type":"t","args":[1]}"#), try claim(path: "/ojs/v1/jobs/batch")] {
            do {
                _ = try await pushOnce(other)
                XCTFail("a different request under a used key must fail")
            } catch let error as OJSError {
                XCTAssertEqual(error.code, .idempotencyKeyMismatch)
                XCTAssertFalse(error.retryable)
            }
            do {
                _ = try await store.recordedResponse(other)
                XCTFail("the reader's look-up must refuse it too")
            } catch let error as OJSError {
                XCTAssertEqual(error.code, .idempotencyKeyMismatch)
            }
        }
        let count = try await jobCount()
        XCTAssertEqual(count, 1)
    }

    func testAKeyLastsForItsWindowThenRunsAgainAndIsPurged() async throws {
        _ = try await pushOnce(try claim(windowMs: 10_000))
        clock.advance(9_999)
        guard case .replayed = try await pushOnce(try claim(windowMs: 10_000)) else { return XCTFail("still inside the window") }
        clock.advance(1)
        let outside = try await store.recordedResponse(try claim(windowMs: 10_000))
        XCTAssertNil(outside)
        guard case .performed = try await pushOnce(try claim(windowMs: 10_000)) else { return XCTFail("past the window the key is new") }
        let count = try await jobCount()
        XCTAssertEqual(count, 2)

        clock.advance(10_000)
        try await store.tick()
        let keys = try await store.read { db in try db.scalar("SELECT count(*) FROM idempotency_keys") }
        XCTAssertEqual(keys, 0, "the tick purges expired keys")
    }

    func testConcurrentDuplicatesCreateExactlyOneJob() async throws {
        let claim = try claim("burst")
        let store: Store = store
        let spec = try spec(#"{"type":"t","args":[]}"#)
        let ids = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for _ in 0..<40 {
                group.addTask {
                    switch try await store.enqueue(spec, once: claim, respond: Self.answer) {
                    case .performed(let outcome, _): return (outcome.job.id, false)
                    case .replayed(let recorded):
                        let job = try JSONParser.parse(recorded.body)
                        return (job["id"]?.stringValue ?? "", true)
                    }
                }
            }
            var all: [(String, Bool)] = []
            for try await r in group { all.append(r) }
            return all
        }
        XCTAssertEqual(Set(ids.map(\.0)).count, 1, "every request saw the same job")
        XCTAssertEqual(ids.filter { !$0.1 }.count, 1, "exactly one ran")
        let count = try await jobCount()
        XCTAssertEqual(count, 1)
    }

    func testAPushThatFailsRecordsNoKey() async throws {
        _ = try await store.configureBackpressure("tight", BackpressureConfig(maxDepth: 1, strategy: "reject", warningThreshold: 0.8))
        let blocker = try await push(#"{"type":"t","args":[],"options":{"queue":"tight"}}"#)
        let json = #"{"type":"t","args":[],"options":{"queue":"tight"}}"#
        let claim = try claim("full", body: json)
        do {
            _ = try await pushOnce(claim, spec: json)
            XCTFail("the queue is full")
        } catch let error as OJSError {
            XCTAssertEqual(error.code, .queueFull)
        }
        let recorded = try await store.recordedResponse(claim)
        XCTAssertNil(recorded, "a rolled-back push leaves no key behind")
        _ = try await store.cancel(id: blocker.id)
        guard case .performed = try await pushOnce(claim, spec: json) else { return XCTFail("the retry runs once there is room") }
    }

    func testABatchRepeatReplaysEveryJob() async throws {
        let specs = [try spec(#"{"type":"a","args":[]}"#), try spec(#"{"type":"b","args":[]}"#)]
        let claim = try claim("batch", path: "/ojs/v1/jobs/batch")
        let respond: @Sendable ([JobSnapshot]) -> RecordedResponse = { jobs in
            RecordedResponse(status: 201, body: "[" + jobs.map(\.json).joined(separator: ",") + "]")
        }
        guard case .performed(let jobs, let first) = try await store.enqueueBatch(specs, once: claim, respond: respond) else {
            return XCTFail("first batch must run")
        }
        XCTAssertEqual(jobs.count, 2)
        guard case .replayed(let again) = try await store.enqueueBatch(specs, once: claim, respond: respond) else {
            return XCTFail("repeat must replay")
        }
        XCTAssertEqual(again, first)
        let count = try await jobCount()
        XCTAssertEqual(count, 2)
    }

    func testMalformedKeysAreRefused() {
        for key in ["", "has space", String(repeating: "k", count: 256), "tab\tkey", "é"] {
            XCTAssertThrowsError(try claim(key)) { error in
                XCTAssertEqual((error as? OJSError)?.code, .invalidRequest, key)
            }
        }
    }
}
