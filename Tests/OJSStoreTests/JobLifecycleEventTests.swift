import OJSCore
import Synchronization
import XCTest

@testable import OJSStore

/// The writer reports a job's lifecycle (for tracing) only after the change commits.
final class JobLifecycleEventTests: StoreTestCase {
    final class Seen: Sendable {
        let events = Mutex<[JobLifecycleEvent]>([])
        func withLock<T>(_ body: (inout [JobLifecycleEvent]) -> T) -> T { events.withLock { body(&$0) } }
    }
    let seen = Seen()

    override func setUpWithError() throws {
        try super.setUpWithError()
        store.writer?.setLifecycleObserver { [seen] events in seen.withLock { $0 += events } }
    }

    /// The event types reported since the last call.
    func reported() -> [String] {
        seen.withLock { s in
            defer { s.removeAll() }
            return s.map(\.type)
        }
    }

    func testEachCommittedStepIsReportedOnceWithTheJobAfterIt() async throws {
        let job = try await push(#"{"type":"t","args":[],"options":{"retry":{"max_attempts":2,"jitter":false}}}"#)
        XCTAssertEqual(reported(), ["job.enqueued"])
        _ = try await store.fetch(FetchRequest(queues: ["default"], workerId: "w1"))
        XCTAssertEqual(reported(), ["job.started"])
        clock.advance(250)
        _ = try await store.nack(NackRequest(jobId: job.id, requeue: false, failure: JobFailure(code: "boom", message: "no")))
        let failed = seen.withLock { $0.last }
        XCTAssertEqual(reported(), ["job.retrying", "job.failed"])
        XCTAssertEqual(failed?.job.state, .retryable)
        XCTAssertEqual(failed.flatMap { e in e.job.startedAt.map { e.at - $0 } }, 250, "the attempt's start and end are both known")
        clock.advance(1000)
        _ = try await store.fetch(FetchRequest(queues: ["default"]))
        _ = try await store.ack(AckRequest(jobId: job.id, workerId: nil, result: nil))
        XCTAssertEqual(reported(), ["job.started", "job.completed"])
    }

    func testARolledBackRequestReportsNothing() async throws {
        let taken = try await push(#"{"type":"t","args":[]}"#)
        _ = reported()
        let batch = [try spec(#"{"type":"a","args":[]}"#), try spec(#"{"type":"b","args":[],"id":"\#(taken.id)"}"#)]
        do {
            _ = try await store.enqueueBatch(batch)
            XCTFail("the duplicate id fails the batch")
        } catch {}
        XCTAssertEqual(reported(), [], "the first job's enqueue was rolled back with the batch")
    }

    func testALapsedReservationIsReportedThoughTheEventLogSkipsIt() async throws {
        try await push(#"{"type":"t","args":[]}"#)
        _ = try await store.fetch(FetchRequest(queues: ["default"], visibilityTimeoutMs: 1000))
        _ = reported()
        clock.advance(1000)
        try await store.tick()
        let events = seen.withLock { $0 }
        XCTAssertEqual(events.map(\.type), ["job.reclaimed"])
        XCTAssertEqual(events.first?.data["error"]?["code"]?.stringValue, JobFailure.visibilityTimeout(timeoutMs: 1000).code)
    }
}
