import OJSCore
import XCTest

@testable import OJSStore

final class CronTests: StoreTestCase {
    func register(_ json: String) async throws -> CronSnapshot {
        try await store.registerCron(try CronDefinition.parse(try JSONParser.parse(json), now: clock.now))
    }

    func testFiresOncePerTickAndSkipsWhileThePreviousRunIsUnfinished() async throws {
        // The manual clock starts at 10:30:00.000 UTC.
        let cron = try await register(
            #"{"name":"every-minute","expression":"* * * * *","job_template":{"type":"tick","args":[],"options":{"queue":"cron"}}}"#
        )
        XCTAssertEqual(cron.nextRunAt, clock.now + 60_000)
        try await store.tick()
        var jobs = try await store.queue("cron").counts
        XCTAssertEqual(jobs.depth, 0, "not due yet")
        clock.advance(60_000)
        try await store.tick()
        try await store.tick()
        jobs = try await store.queue("cron").counts
        XCTAssertEqual(jobs[.available], 1, "one job per tick, however often the scheduler runs")
        clock.advance(60_000)
        try await store.tick()
        jobs = try await store.queue("cron").counts
        XCTAssertEqual(jobs[.available], 1, "skip: the previous run is still waiting")
        let fired = try await store.fetch(FetchRequest(queues: ["cron"]))
        XCTAssertEqual(fired.first?.parsedDocument()["meta"]?["cron_name"], "every-minute")
        _ = try await store.ack(AckRequest(jobId: fired[0].id))
        clock.advance(60_000)
        try await store.tick()
        jobs = try await store.queue("cron").counts
        XCTAssertEqual(jobs[.available], 1)
        let listed = try await store.crons()
        XCTAssertEqual(listed.first?.runCount, 2)
    }

    func testInvalidDefinitions() {
        for bad in [
            #"{"name":"x","expression":"not a cron","job_template":{"type":"a","args":[]}}"#,
            #"{"name":"x","expression":"* * * * *","timezone":"Mars/Olympus","job_template":{"type":"a","args":[]}}"#,
            #"{"name":"x","expression":"* * * * *","job_template":{"type":"Bad Type","args":[]}}"#,
            #"{"name":"Bad Name","expression":"* * * * *","job_template":{"type":"a","args":[]}}"#,
        ] {
            XCTAssertThrowsError(try CronDefinition.parse(try JSONParser.parse(bad), now: 0), bad)
        }
        XCTAssertNoThrow(try CronDefinition.parse(try JSONParser.parse(#"{"name":"sdk-form","cron":"@daily","type":"a","args":[1]}"#), now: 0))
    }
}
