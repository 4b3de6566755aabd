import Foundation
import OJSCore
import XCTest

@testable import OJSStore

/// The store reads and writes behind the operator console: the job list by state, queue and
/// type; retrying an ended job; switching a cron entry; a job's events by subject and time;
/// and the event tally the overview turns into rates.
final class ConsoleQueryTests: StoreTestCase {
    func list(_ state: JobState? = nil, queue: String? = nil, type: String? = nil, limit: Int = 20, offset: Int = 0) async throws -> JobListPage {
        var q = JobListQuery()
        q.state = state
        q.queue = queue
        q.type = type
        q.limit = limit
        q.offset = offset
        return try await store.jobList(q)
    }

    /// Jobs in every state the console filters by: 3 available in `a`, 2 available in `b`
    /// (one of type `t2`), 1 active, 1 completed, 1 discarded, 1 cancelled, 1 scheduled.
    func fill() async throws -> (completed: JobSnapshot, discarded: JobSnapshot, cancelled: JobSnapshot) {
        for _ in 0..<3 { try await push(#"{"type":"t","args":[],"options":{"queue":"a"}}"#) }
        try await push(#"{"type":"t","args":[],"options":{"queue":"b"}}"#)
        try await push(#"{"type":"t2","args":[],"options":{"queue":"b"}}"#)
        let work = try await push(#"{"type":"w","args":[],"options":{"queue":"work","retry":{"max_attempts":1}}}"#)
        let fail = try await push(#"{"type":"w","args":[],"options":{"queue":"work","retry":{"max_attempts":1}}}"#)
        try await push(#"{"type":"w","args":[],"options":{"queue":"work"}}"#)
        let claimed = try await store.fetch(FetchRequest(queues: ["work"], count: 3))
        XCTAssertEqual(Set(claimed.map(\.id)).isSuperset(of: [work.id, fail.id]), true)
        let completed = try await store.ack(AckRequest(jobId: work.id))
        let discarded = try await store.nack(NackRequest(jobId: fail.id, failure: JobFailure(code: "boom", message: "no", retryable: false))).job
        let cancelled = try await store.cancel(id: try await push(#"{"type":"c","args":[],"options":{"queue":"a"}}"#).id)
        try await push(#"{"type":"s","args":[],"options":{"queue":"a","delay_until":"+PT1H"}}"#)
        return (completed, discarded, cancelled)
    }

    func testJobListFiltersByStateQueueAndTypeAndPages() async throws {
        let ended = try await fill()
        let available = try await list(.available)
        XCTAssertEqual(available.jobs.count, 5)
        XCTAssertEqual(available.total, 5)
        XCTAssertTrue(available.jobs.allSatisfy { $0.state == .available })
        let inB = try await list(.available, queue: "b")
        XCTAssertEqual(Set(inB.jobs.map(\.type)), ["t", "t2"])
        let t2 = try await list(.available, queue: "b", type: "t2")
        XCTAssertEqual(t2.jobs.map(\.type), ["t2"])
        XCTAssertNil(t2.total, "a type filter has no kept count")
        for (state, job) in [(JobState.completed, ended.completed), (.discarded, ended.discarded), (.cancelled, ended.cancelled)] {
            let page = try await list(state)
            XCTAssertEqual(page.jobs.map(\.id), [job.id], "\(state)")
            XCTAssertEqual(page.total, 1)
        }
        let active = try await list(.active)
        XCTAssertEqual(active.jobs.count, 1)
        let scheduled = try await list(.scheduled)
        XCTAssertEqual(scheduled.jobs.map(\.type), ["s"])
        let retryable = try await list(.retryable)
        XCTAssertEqual(retryable.jobs.count, 0)

        // Pages of two through every job, newest first, with no repeat and no gap.
        var seen: [String] = []
        var offset = 0
        while true {
            let page = try await list(limit: 2, offset: offset)
            seen += page.jobs.map(\.id)
            offset += 2
            if !page.hasMore { break }
        }
        XCTAssertEqual(seen.count, 10)
        XCTAssertEqual(Set(seen).count, 10)
        let all = try await list(limit: 100)
        XCTAssertEqual(all.total, 10)
        XCTAssertEqual(all.jobs.first?.type, "s", "newest first")
    }

    func testRetryRunsAnEndedJobAgainAndRefusesALiveOrCompletedOne() async throws {
        let ended = try await fill()
        for job in [ended.discarded, ended.cancelled] {
            let retried = try await store.retryJob(id: job.id)
            XCTAssertEqual(retried.state, .available)
            XCTAssertEqual(retried.attempt, 0)
            XCTAssertNil(retried.cancelledAt)
        }
        let again = try await store.job(id: ended.discarded.id)
        XCTAssertNotNil(again?.errors, "the error history is kept")
        do {
            _ = try await store.retryJob(id: ended.completed.id)
            XCTFail("a completed job was retried")
        } catch let error as OJSError {
            XCTAssertEqual(error.code, .conflict)
        }
        do {
            _ = try await store.retryJob(id: "01900000-0000-7000-8000-000000000000")
            XCTFail("an unknown job was retried")
        } catch let error as OJSError {
            XCTAssertEqual(error.code, .notFound)
        }
        let counts = try await list(.available)
        XCTAssertEqual(counts.total, 7, "the kept counts follow the retries")
    }

    func testCronCanBeDisabledAndEnabled() async throws {
        try await store.registerCron(
            try CronDefinition.parse(try JSONParser.parse(#"{"name":"n","cron":"*/5 * * * *","type":"t","args":[]}"#), now: clock.now)
        )
        let disabled = try await store.setCronEnabled(name: "n", enabled: false)
        XCTAssertFalse(disabled.enabled)
        XCTAssertNil(disabled.nextRunAt)
        clock.advance(3_600_000)
        let enabled = try await store.setCronEnabled(name: "n", enabled: true)
        XCTAssertTrue(enabled.enabled)
        let next = try XCTUnwrap(enabled.nextRunAt)
        XCTAssertGreaterThan(next, clock.now, "the next run counts from now, not from the ticks it missed")
        XCTAssertLessThanOrEqual(next, clock.now + 300_000)
        do {
            _ = try await store.setCronEnabled(name: "missing", enabled: true)
            XCTFail("an unknown cron entry was enabled")
        } catch let error as OJSError {
            XCTAssertEqual(error.code, .notFound)
        }
    }

    func testAJobsEventsAreFoundBySubjectFromItsCreationTime() async throws {
        for _ in 0..<20 {
            try await push(#"{"type":"t","args":[]}"#)
            clock.advance(1_000)
        }
        let job = try await push(#"{"type":"mine","args":[]}"#)
        clock.advance(1_000)
        for _ in 0..<5 { try await push(#"{"type":"t","args":[]}"#) }
        _ = try await store.cancel(id: job.id)
        var q = EventQuery()
        q.subjects = [job.id]
        q.since = job.createdAt
        let events = try await store.events(q).events
        XCTAssertEqual(events.count, 2)
        XCTAssertTrue(events[0].contains("job.enqueued") && events[1].contains("job.cancelled"))
        let now = clock.now
        let firstSeqs = try await store.read { db in
            [
                try EventLog.firstSeq(atOrAfter: job.createdAt, db: db), try EventLog.firstSeq(atOrAfter: 0, db: db),
                try EventLog.firstSeq(atOrAfter: now + 1, db: db),
            ]
        }
        XCTAssertEqual(firstSeqs[0], 21, "the bisection lands on the first event at that time")
        XCTAssertEqual(firstSeqs[1], 1)
        XCTAssertNil(firstSeqs[2], "nothing written after now")
        q.since = clock.now + 1
        let later = try await store.events(q).events
        XCTAssertEqual(later, [])
    }

    func testTallyCountsEventsOfTheGivenTypesSinceACursor() async throws {
        let start = try await store.tallyEvents(after: nil, types: ["job.completed"])
        XCTAssertEqual(start.counts, [:])
        for _ in 0..<4 { try await push(#"{"type":"t","args":[],"options":{"queue":"q"}}"#) }
        for job in try await store.fetch(FetchRequest(queues: ["q"], count: 3)) { _ = try await store.ack(AckRequest(jobId: job.id)) }
        let tally = try await store.tallyEvents(after: start.cursor, types: ["job.completed", "job.failed"])
        XCTAssertEqual(tally.counts, ["job.completed": 3])
        XCTAssertFalse(tally.truncated)
        XCTAssertEqual(tally.cursor, start.cursor + 4 + 3 + 3, "4 enqueued, 3 started, 3 completed")
        let none = try await store.tallyEvents(after: tally.cursor, types: ["job.completed"])
        XCTAssertEqual(none.counts, [:])
        XCTAssertEqual(none.cursor, tally.cursor)
    }

    /// The oldest available job read from the claim index's priority heads agrees with a
    /// count over every row, through pushes at three priorities, a scheduled job promoted, a
    /// failed job retried and a claim taken from the head.
    func testOldestAvailableFromPriorityHeadsMatchesAFullScan() async throws {
        func check(_ why: String) async throws {
            let info = try await store.queue("q")
            let scanned = try await store.read { db in
                try db.first("SELECT min(enqueued_at) FROM jobs WHERE queue = 'q' AND state = 'available'", []) { $0.optInt(0) } ?? nil
            }
            XCTAssertEqual(info.oldestAvailableAt, scanned, why)
        }
        try await check("an empty queue")
        try await push(#"{"type":"s","args":[],"options":{"queue":"q","delay_until":"+PT2S"}}"#)
        for priority in [0, 5, -3, 5, 0] {
            clock.advance(500)
            try await push(#"{"type":"t","args":[],"options":{"queue":"q","priority":\#(priority)}}"#)
        }
        try await check("three priorities")
        clock.advance(2_000)
        _ = try await store.tick()
        try await check("a scheduled job promoted")
        let claimed = try await store.fetch(FetchRequest(queues: ["q"], count: 2))
        XCTAssertEqual(claimed.count, 2)
        try await check("the heads claimed")
        _ = try await store.nack(NackRequest(jobId: claimed[0].id, failure: JobFailure(code: "x", message: "y")))
        clock.advance(60_000)
        _ = try await store.tick()
        try await check("a failed job back after its retry delay")
        let final = try await store.queue("q")
        XCTAssertNotNil(final.oldestAvailableAt, "the check compared real times, not two nils")
    }
}
