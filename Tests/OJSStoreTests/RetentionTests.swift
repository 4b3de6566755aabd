import OJSCore
import XCTest

@testable import OJSStore

/// Retention purges finished jobs in bounded passes, never dead letters, never the steps of
/// a workflow that is still running. Time is the manual clock; no test sleeps.
final class RetentionTests: StoreTestCase {
    static let hour: Int64 = 3_600_000

    /// Pushes a job into `queue` and settles it: `ack`, or a final NACK into the dead-letter
    /// queue (`deadLetter`) or plain discard.
    func finished(_ queue: String, _ outcome: String) async throws -> JobSnapshot {
        let exhaustion = outcome == "dead_letter" ? "dead_letter" : "discard"
        let job = try await push(
            #"{"type":"t","args":[],"options":{"queue":"\#(queue)","retry":{"max_attempts":1,"on_exhaustion":"\#(exhaustion)"}}}"#
        )
        _ = try await store.fetch(FetchRequest(queues: [queue]))
        if outcome == "completed" {
            _ = try await store.ack(AckRequest(jobId: job.id))
        } else {
            _ = try await store.nack(NackRequest(jobId: job.id, failure: JobFailure(code: "boom", message: "failed")))
        }
        return job
    }

    func exists(_ job: JobSnapshot) async throws -> Bool { try await store.job(id: job.id) != nil }

    func testPurgesOldCompletedAndDiscardedButKeepsDeadLettersAndRecentJobs() async throws {
        let completed = try await finished("a", "completed")
        let discarded = try await finished("b", "discarded")
        let deadLetter = try await finished("c", "dead_letter")
        let cancelled = try await push(#"{"type":"t","args":[],"options":{"queue":"d"}}"#)
        _ = try await store.cancel(id: cancelled.id)

        clock.advance(24 * Self.hour - 1)
        var report = try await store.tick()
        XCTAssertEqual(report.purge.jobs + report.purge.workflows, 0, "no job is past its retention yet (events are: an hour)")

        clock.advance(1)
        let recent = try await finished("a", "completed")
        report = try await store.tick()
        XCTAssertEqual(report.purge.completed, 1)
        let completedKept = try await exists(completed)
        let recentKept = try await exists(recent)
        let discardedKept = try await exists(discarded)
        XCTAssertFalse(completedKept, "completed 24 h ago: purged")
        XCTAssertTrue(recentKept, "completed just now: kept")
        XCTAssertTrue(discardedKept, "discarded jobs are kept 7 days")

        clock.advance(6 * 24 * Self.hour)
        report = try await store.tick()
        XCTAssertEqual(report.purge.discarded, 1)
        XCTAssertEqual(report.purge.cancelled, 1)
        XCTAssertEqual(report.purge.completed, 1, "the recent one's day has passed too")
        let dlq = try await store.deadLetters(queue: nil, type: nil, limit: 10, offset: 0)
        XCTAssertEqual(dlq.jobs.map(\.id), [deadLetter.id], "dead letters are never purged")
        let discardedGone = try await exists(discarded)
        XCTAssertFalse(discardedGone)
    }

    /// One purge transaction stops at its time budget and says a backlog remains; the tick
    /// then runs more transactions (`BoundedWriterTests`).
    func testOnePurgeTransactionIsBoundedAndReportsABacklog() async throws {
        store.close()
        var config = StoreConfiguration(path: directory.appendingPathComponent("bounded.db").path)
        config.purgeBatchSize = 2
        config.purgeTransactionBudgetMs = 0
        store = try Store(configuration: config, clock: clock.function)
        for _ in 0..<5 { _ = try await finished("q", "completed") }
        clock.advance(25 * Self.hour)
        var passes: [Int] = []
        var more = true
        while more && passes.count < 50 {
            let settings = store.configuration
            let report = try await store.write { ctx in try Retention.purge(ctx, config: settings) }
            passes.append(report.completed)
            more = report.more
        }
        // The jobs' events drain in bounded transactions too, so `more` may outlast the jobs.
        XCTAssertEqual(Array(passes.prefix(3)), [2, 2, 1])
        XCTAssertEqual(passes.dropFirst(3).filter { $0 != 0 }, [])
        XCTAssertFalse(more, "the backlog drains")
    }

    func testZeroRetentionKeepsJobsForever() async throws {
        store.close()
        var config = StoreConfiguration(path: directory.appendingPathComponent("forever.db").path)
        config.completedRetentionMs = nil
        config.discardedRetentionMs = nil
        store = try Store(configuration: config, clock: clock.function)
        let completed = try await finished("q", "completed")
        let discarded = try await finished("q", "discarded")
        clock.advance(365 * 24 * Self.hour)
        let report = try await store.tick()
        XCTAssertEqual(report.purge.jobs, 0)
        let completedKept = try await exists(completed)
        let discardedKept = try await exists(discarded)
        XCTAssertTrue(completedKept && discardedKept)
    }

    /// A running workflow decides what runs next from its steps' rows: purging a finished
    /// step would make it look never started, and the workflow would run it again.
    func testKeepsStepsOfARunningWorkflowAndPurgesTheWorkflowOnceFinished() async throws {
        let definition = try WorkflowDefinition.parse(
            try JSONParser.parse(
                #"{"type":"chain","name":"w","steps":[{"type":"s1","args":[],"options":{"queue":"wf"}},{"type":"s2","args":[],"options":{"queue":"wf"}}]}"#
            ),
            now: clock.now
        )
        let workflow = try await store.createWorkflow(definition)
        let first = try await store.fetch(FetchRequest(queues: ["wf"]))
        _ = try await store.ack(AckRequest(jobId: first[0].id))
        clock.advance(25 * Self.hour)
        var report = try await store.tick()
        XCTAssertEqual(report.purge.completed, 0, "step 1 belongs to a running workflow")
        let second = try await store.fetch(FetchRequest(queues: ["wf"]))
        XCTAssertEqual(second.map(\.type), ["s2"], "the workflow moved on, and did not rerun step 1")
        _ = try await store.ack(AckRequest(jobId: second[0].id))
        report = try await store.tick()
        XCTAssertEqual(report.purge.completed, 1, "the workflow finished: its old step goes")
        XCTAssertEqual(report.purge.workflows, 0, "the workflow stays while a job of it remains")
        clock.advance(25 * Self.hour)
        report = try await store.tick()
        XCTAssertEqual(report.purge.completed, 1)
        XCTAssertEqual(report.purge.workflows, 1)
        let gone = try await store.workflow(id: workflow.id)
        XCTAssertNil(gone)
    }
}
