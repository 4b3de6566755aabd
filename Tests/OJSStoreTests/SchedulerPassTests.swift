import OJSCore
import XCTest

@testable import OJSStore

/// The scheduler's pass as a tick reports it, and serverless mode, where no ticker runs and
/// fetches, job GETs and the tick endpoint do its work.
final class SchedulerPassTests: StoreTestCase {
    func serverlessStore() throws {
        store.close()
        var config = StoreConfiguration(path: directory.appendingPathComponent("serverless.db").path)
        config.serverless = true
        store = try Store(configuration: config, clock: clock.function)
    }

    func registerCron(queue: String) async throws {
        _ = try await store.registerCron(
            try CronDefinition.parse(
                try JSONParser.parse(
                    #"{"name":"minutely","expression":"* * * * *","job_template":{"type":"c","args":[],"options":{"queue":"\#(queue)"}}}"#
                ),
                now: clock.now
            )
        )
    }

    func testTickReportsWhatItDid() async throws {
        _ = try await push(#"{"type":"t","args":[],"options":{"queue":"later","scheduled_at":"+PT2S"}}"#)
        _ = try await push(#"{"type":"t","args":[],"options":{"queue":"ttl","expires_at":"+PT1S"}}"#)
        _ = try await push(#"{"type":"t","args":[],"options":{"queue":"vt","visibility_timeout_ms":1000}}"#)
        _ = try await push(#"{"type":"t","args":[],"options":{"queue":"slow","timeout_ms":1000,"visibility_timeout_ms":600000}}"#)
        _ = try await store.fetch(FetchRequest(queues: ["vt", "slow"], count: 2))
        try await registerCron(queue: "cron")

        var report = try await store.tick()
        var nothing = TickReport()
        nothing.transactions = 3  // one chunk of transitions, cron, one purge
        XCTAssertEqual(report, nothing, "nothing due yet")
        clock.advance(60_000)
        report = try await store.tick()
        XCTAssertEqual(report.promoted, 1)
        XCTAssertEqual(report.expired, 1)
        XCTAssertEqual(report.reclaimed, 1)
        XCTAssertEqual(report.timedOut, 1)
        XCTAssertEqual(report.cronFired, 1)
        report = try await store.tick()
        XCTAssertEqual(report.promoted + report.expired + report.reclaimed + report.timedOut + report.cronFired, 0, "each fires once")
    }

    func testWithATickerAFetchDoesNotFireCron() async throws {
        try await registerCron(queue: "cron")
        clock.advance(60_000)
        let before = try await store.fetch(FetchRequest(queues: ["cron"]))
        XCTAssertEqual(before.count, 0, "cron belongs to the ticker when there is one")
    }

    func testServerlessFetchFiresDueCronAndPromotesDelayedJobs() async throws {
        try serverlessStore()
        try await registerCron(queue: "cron")
        let delayed = try await push(#"{"type":"t","args":[],"options":{"queue":"later","scheduled_at":"+PT5S"}}"#)
        let early = try await store.fetch(FetchRequest(queues: ["cron", "later"], count: 5))
        XCTAssertEqual(early.count, 0)
        clock.advance(60_000)
        let untouched = try await store.job(id: delayed.id)
        XCTAssertEqual(untouched?.state, .scheduled, "no ticker: nothing moves on its own")
        let due = try await store.fetch(FetchRequest(queues: ["cron", "later"], count: 5))
        XCTAssertEqual(Set(due.map(\.type)), ["c", "t"], "the fetch fired the cron entry and promoted the delayed job")
    }

    func testJobGetAppliesADueTransitionOnlyWhenOneIsDue() async throws {
        try serverlessStore()
        let delayed = try await push(#"{"type":"t","args":[],"options":{"scheduled_at":"+PT2S"}}"#)
        var wrote = try await store.applyDueTransitions(forJob: delayed.id)
        XCTAssertFalse(wrote, "nothing due: a plain read")
        clock.advance(2000)
        wrote = try await store.applyDueTransitions(forJob: delayed.id)
        XCTAssertTrue(wrote)
        let promoted = try await store.job(id: delayed.id)
        XCTAssertEqual(promoted?.state, .available)
        wrote = try await store.applyDueTransitions(forJob: delayed.id)
        XCTAssertFalse(wrote)
    }

    func testServerlessTickReclaimsALapsedReservation() async throws {
        try serverlessStore()
        let job = try await push(#"{"type":"t","args":[],"options":{"visibility_timeout_ms":1000}}"#)
        _ = try await store.fetch(FetchRequest(queues: ["default"], workerId: "w"))
        clock.advance(1000)
        let report = try await store.tick()
        XCTAssertEqual(report.reclaimed, 1)
        let reclaimed = try await store.job(id: job.id)
        XCTAssertEqual(reclaimed?.state, .available)
    }
}
