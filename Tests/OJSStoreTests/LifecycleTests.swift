import OJSCore
import XCTest

@testable import OJSStore

final class LifecycleTests: StoreTestCase {
    func fetchOne(_ queue: String = "default") async throws -> JobSnapshot? {
        try await store.fetch(FetchRequest(queues: [queue], count: 1)).first
    }

    func testNackRetriesWithBackoffThenDiscardsIntoDeadLetter() async throws {
        let job = try await push(
            #"{"type":"t","args":[],"options":{"retry":{"max_attempts":2,"jitter":false,"on_exhaustion":"dead_letter"}}}"#
        )
        _ = try await fetchOne()
        let first = try await store.nack(NackRequest(jobId: job.id, requeue: false, failure: JobFailure(code: "boom", message: "one")))
        XCTAssertEqual(first.outcome, .retry(delayMs: 1000, nextAttemptAt: clock.now + 1000))
        XCTAssertEqual(first.job.state, .retryable)
        let notYet = try await fetchOne()
        XCTAssertNil(notYet, "not fetchable before its backoff elapses")
        clock.advance(1000)
        let again = try await fetchOne()
        XCTAssertEqual(again?.attempt, 2)
        XCTAssertEqual(again?.retryDelayMs, 1000)
        let last = try await store.nack(NackRequest(jobId: job.id, requeue: false, failure: JobFailure(code: "boom", message: "two")))
        XCTAssertEqual(last.outcome, .discard(deadLetter: true))
        XCTAssertNotNil(last.job.completedAt)
        let errors = try JSONParser.parse(last.job.errors ?? "[]").arrayValue ?? []
        XCTAssertEqual(errors.map { $0["message"] }, ["one", "two"])
        let dlq = try await store.deadLetters(queue: nil, type: nil, limit: 10, offset: 0)
        XCTAssertEqual(dlq.jobs.map(\.id), [job.id])
        let retried = try await store.retryDeadLetter(id: job.id)
        XCTAssertEqual(retried.state, .available)
        XCTAssertEqual(retried.attempt, 0)
    }

    func testWrongStateTransitionsAreConflicts() async throws {
        let job = try await push(#"{"type":"t","args":[]}"#)
        await assertOJSError(.conflict) { _ = try await self.store.ack(AckRequest(jobId: job.id)) }
        _ = try await store.cancel(id: job.id)
        await assertOJSError(.conflict) { _ = try await self.store.cancel(id: job.id) }
        await assertOJSError(.notFound) { _ = try await self.store.cancel(id: "019461a8-1a2b-7c3d-8e4f-5a6b7c8d9e0f") }
    }

    func testVisibilityTimeoutReclaimsAbandonedJob() async throws {
        let job = try await push(#"{"type":"t","args":[],"options":{"visibility_timeout_ms":3000}}"#)
        _ = try await fetchOne()
        clock.advance(2000)
        _ = try await store.heartbeat(HeartbeatRequest(workerId: "w", jobIds: [job.id]), honourTestDirectives: false)
        clock.advance(2500)
        try await store.tick()
        let stillActive = try await store.job(id: job.id)
        XCTAssertEqual(stillActive?.state, .active, "the heartbeat extended the reservation")
        clock.advance(1000)
        try await store.tick()
        let reclaimed = try await store.job(id: job.id)
        XCTAssertEqual(reclaimed?.state, .available)
        XCTAssertNil(reclaimed?.workerId)
    }

    func testExecutionTimeoutFailsTheAttempt() async throws {
        let job = try await push(#"{"type":"t","args":[],"options":{"timeout_ms":2000}}"#)
        _ = try await fetchOne()
        clock.advance(2001)
        try await store.tick()
        let failed = try await store.job(id: job.id)
        XCTAssertEqual(failed?.state, .retryable)
        XCTAssertEqual(try JSONParser.parse(failed?.error ?? "{}")["code"], "timeout")
    }

    func testScheduledAndExpiringJobs() async throws {
        let later = try await push(#"{"type":"t","args":[],"options":{"scheduled_at":"+PT2S"}}"#)
        let expiring = try await push(#"{"type":"t","args":[],"options":{"queue":"ttl","expires_at":"+PT1S"}}"#)
        XCTAssertEqual(later.state, .scheduled)
        clock.advance(2000)
        try await store.tick()
        let promoted = try await store.job(id: later.id)
        XCTAssertEqual(promoted?.state, .available)
        let fetchedExpired = try await fetchOne("ttl")
        XCTAssertNil(fetchedExpired)
        let expired = try await store.job(id: expiring.id)
        XCTAssertEqual(expired?.state, .discarded)
        XCTAssertNil(expired?.completedAt)
    }

    func testBatchIsAllOrNothing() async throws {
        let good = try spec(#"{"type":"t","args":[],"options":{"queue":"b"}}"#)
        let clash = try spec(#"{"type":"t","args":[],"id":"019461a8-1a2b-7c3d-8e4f-5a6b7c8d9e0f","options":{"queue":"b"}}"#)
        await assertOJSError(.duplicate) { _ = try await self.store.enqueueBatch([good, clash, clash]) }
        let counts = try await store.queue("b").counts
        XCTAssertEqual(counts.depth, 0, "nothing from the failed batch was kept")
    }

    func testUniqueKeyUnderConcurrencyCreatesOneJob() async throws {
        let unique = try spec(#"{"type":"t","args":[1],"options":{"unique":{"keys":["type","args"],"on_conflict":"reject"}}}"#)
        let store = self.store!
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { (try? await store.enqueue(unique)) != nil } }
            var created = 0
            for await ok in group where ok { created += 1 }
            return created
        }
        XCTAssertEqual(results, 1)
    }
}

func assertOJSError(
    _ code: OJSError.Code,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        XCTFail("expected \(code)", file: file, line: line)
    } catch let error as OJSError {
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}
