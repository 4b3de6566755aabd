import OJSCore
import XCTest

@testable import OJSStore

/// Jobs per queue and state are kept by triggers (migration 0010). Whatever path moves a job,
/// the kept counts must equal a count of the jobs themselves.
final class QueueStateCountsTests: StoreTestCase {
    /// The kept counts and the counted ones, both without zero rows.
    func bothCounts() async throws -> (kept: [String: Int64], counted: [String: Int64]) {
        try await store.read { db in
            var kept: [String: Int64] = [:]
            var counted: [String: Int64] = [:]
            try db.query("SELECT queue || '/' || state, jobs FROM queue_state_counts WHERE jobs != 0") { kept[$0.text(0)] = $0.int(1) }
            try db.query("SELECT queue || '/' || state, count(*) FROM jobs GROUP BY queue, state") { counted[$0.text(0)] = $0.int(1) }
            return (kept, counted)
        }
    }

    func assertCountsExact(_ step: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let (kept, counted) = try await bothCounts()
        XCTAssertEqual(kept, counted, "after \(step)", file: file, line: line)
    }

    func testEveryPathThatMovesAJobKeepsTheCountsExact() async throws {
        let retrying = #"{"type":"t","args":[],"options":{"queue":"a","retry":{"max_attempts":2}}}"#
        let once = #"{"type":"t","args":[],"options":{"queue":"b","retry":{"max_attempts":1,"on_exhaustion":"dead_letter"}}}"#
        let done = try await push(#"{"type":"t","args":[],"options":{"queue":"a"}}"#)
        let failing = try await push(retrying)
        let dead = try await push(once)
        _ = try await store.enqueueBatch([try spec(#"{"type":"t","args":[],"options":{"queue":"c","scheduled_at":"+PT1S"}}"#)])
        let cancelled = try await push(#"{"type":"t","args":[],"options":{"queue":"c"}}"#)
        try await assertCountsExact("pushes")
        _ = try await store.fetch(FetchRequest(queues: ["a", "b"], count: 3))
        try await assertCountsExact("fetch")
        _ = try await store.ack(AckRequest(jobId: done.id))
        _ = try await store.nack(NackRequest(jobId: failing.id, failure: JobFailure(code: "boom", message: "failed")))
        _ = try await store.nack(NackRequest(jobId: dead.id, failure: JobFailure(code: "boom", message: "failed")))
        _ = try await store.cancel(id: cancelled.id)
        try await assertCountsExact("ack, nack to retry, nack to the dead letters, cancel")
        clock.advance(3_600_000)
        _ = try await store.tick()
        try await assertCountsExact("promotion of the scheduled and the retry")
        let (kept, _) = try await bothCounts()
        XCTAssertEqual(kept["c/available"], 1, "the scheduled job became available")
        XCTAssertEqual(kept["b/discarded"], 1)

        let depth = try await store.read { db in try QueueRow.depth("a", db: db) }
        XCTAssertEqual(depth, 1, "queue a: the retried job waits; the acked one is done")
        let info = try await store.queue("a")
        XCTAssertEqual(info.counts.byState[.completed], 1)

        clock.advance(30 * 24 * 3_600_000)
        _ = try await store.tick()
        try await assertCountsExact("retention's purge")
        try await store.reset()
        let (afterReset, _) = try await bothCounts()
        XCTAssertEqual(afterReset, [:])
    }

    func testTheUpgradeCountsTheJobsAlreadyStored() throws {
        let path = directory.appendingPathComponent("upgrade.db").path
        let db = try Connection(path: path, options: .init(readOnly: false))
        try Migrations.apply(to: db, migrations: Array(Migrations.all.prefix(9)))
        for (queue, state) in [("a", "available"), ("a", "available"), ("a", "completed"), ("b", "active")] {
            try db.run(
                "INSERT INTO jobs (id, type, queue, state, created_at, doc) VALUES (?, 't', ?, ?, 0, '{}')",
                [.text(UUID().uuidString), .text(queue), .text(state)]
            )
        }
        XCTAssertEqual(try Migrations.apply(to: db), ["0010_queue_state_counts.sql"])
        var kept: [String: Int64] = [:]
        try db.query("SELECT queue || '/' || state, jobs FROM queue_state_counts") { kept[$0.text(0)] = $0.int(1) }
        XCTAssertEqual(kept, ["a/available": 2, "a/completed": 1, "b/active": 1])
    }
}
