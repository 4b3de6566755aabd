import OJSCore
import XCTest

@testable import OJSStore

/// Bulk replay and delete replay exactly the dead letters the filter selects.
final class DeadLetterBulkTests: StoreTestCase {
    /// A job dead-lettered with the given queue, type and error code.
    @discardableResult
    func deadLetter(queue: String, type: String, code: String = "boom") async throws -> JobSnapshot {
        let job = try await push(
            #"{"type":"\#(type)","args":[],"options":{"queue":"\#(queue)","retry":{"max_attempts":1,"on_exhaustion":"dead_letter"}}}"#
        )
        _ = try await store.fetch(FetchRequest(queues: [queue]))
        _ = try await store.nack(NackRequest(jobId: job.id, failure: JobFailure(code: code, message: "failed")))
        return job
    }

    func filter(_ json: String) throws -> DeadLetterFilter { try DeadLetterFilter.parse(try JSONParser.parse(json)) }

    func testReplayReplaysExactlyTheMatchingDeadLetters() async throws {
        let match1 = try await deadLetter(queue: "mail", type: "send")
        try await deadLetter(queue: "mail", type: "bounce")
        try await deadLetter(queue: "sms", type: "send")
        let match2 = try await deadLetter(queue: "mail", type: "send")
        let result = try await store.replayDeadLetters(try filter(#"{"queue":"mail","type":"send"}"#))
        XCTAssertEqual(result.jobIds, [match1.id, match2.id], "oldest first")
        XCTAssertEqual(result.remaining, 0)
        for id in result.jobIds {
            let job = try await store.job(id: id)
            XCTAssertEqual(job?.state, .available)
            XCTAssertEqual(job?.attempt, 0)
        }
        let left = try await store.deadLetters(queue: nil, type: nil, limit: 10, offset: 0)
        XCTAssertEqual(left.total, 2, "the other two stay dead-lettered")
    }

    func testFiltersByErrorCodeAndTimeWindowAndHonoursTheLimit() async throws {
        let start = clock.now
        try await deadLetter(queue: "q", type: "t", code: "timeout")
        clock.advance(1000)
        let late = try await deadLetter(queue: "q", type: "t", code: "timeout")
        try await deadLetter(queue: "q", type: "t", code: "other")
        let since = Timestamp.format(millis: start + 1000)
        let windowed = try await store.replayDeadLetters(try filter(#"{"error_code":"timeout","since":"\#(since)"}"#))
        XCTAssertEqual(windowed.jobIds, [late.id])

        for _ in 0..<4 { try await deadLetter(queue: "many", type: "t") }
        let limited = try await store.replayDeadLetters(try filter(#"{"queue":"many","limit":3}"#))
        XCTAssertEqual(limited.jobIds.count, 3)
        XCTAssertEqual(limited.remaining, 1, "the caller repeats until nothing remains")
    }

    func testEmptyFilterReplaysEverythingAndDeleteRemovesForGood() async throws {
        try await deadLetter(queue: "a", type: "t")
        try await deadLetter(queue: "b", type: "t")
        let regular = try await push(#"{"type":"t","args":[],"options":{"queue":"c"}}"#)
        let deleted = try await store.deleteDeadLetters(try filter(#"{"queue":"a","confirm":true}"#))
        XCTAssertEqual(deleted.jobIds.count, 1)
        let gone = try await store.job(id: deleted.jobIds[0])
        XCTAssertNil(gone)
        let replayed = try await store.replayDeadLetters(DeadLetterFilter())
        XCTAssertEqual(replayed.jobIds.count, 1)
        let untouched = try await store.job(id: regular.id)
        XCTAssertEqual(untouched?.state, .available, "jobs outside the dead-letter queue are never touched")
    }
}
