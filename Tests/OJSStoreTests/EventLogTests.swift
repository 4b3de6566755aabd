import Foundation
import OJSCore
import XCTest

@testable import OJSStore

/// The event log since migration 0009: one b-tree, ids that are sequence numbers, cursors
/// that need no index, and a purge that never lets a sequence number be handed out twice.
final class EventLogTests: StoreTestCase {
    func ids(after cursor: String? = nil, limit: Int = 100) async throws -> [String] {
        var query = EventQuery()
        query.after = cursor
        query.limit = limit
        return try await store.events(query).events.map { event in
            guard case .object(let object) = try JSONParser.parse(event), case .string(let id)? = object["id"] else { return "" }
            return id
        }
    }

    /// A fresh store that keeps events for `retentionMs`, with `count` jobs pushed.
    func reopen(keepingEventsFor retentionMs: Int64, thenPush count: Int) async throws {
        store.close()
        var config = StoreConfiguration(path: directory.appendingPathComponent("retention.db").path)
        config.eventRetentionMs = retentionMs
        store = try Store(configuration: config, clock: clock.function)
        for _ in 0..<count { try await push(#"{"type":"t","args":[]}"#) }
    }

    func testIdsAreSequenceNumbersAndCursorsPageThroughWithoutRepeats() async throws {
        for _ in 0..<5 { try await push(#"{"type":"t","args":[]}"#) }
        let all = try await ids()
        XCTAssertEqual(all.count, 5)
        XCTAssertEqual(all.map { EventLog.seq(id: $0) }, [1, 2, 3, 4, 5])
        let firstPage = try await ids(limit: 2)
        XCTAssertEqual(firstPage, Array(all.prefix(2)))
        let secondPage = try await ids(after: all[1], limit: 2)
        XCTAssertEqual(secondPage, Array(all[2..<4]))
        let pastTheEnd = try await ids(after: all[4])
        XCTAssertEqual(pastTheEnd, [])
        // A cursor from before 0009 (a UUID) names nothing: the log is read from its start.
        let fromOldCursor = try await ids(after: "evt_0190c7a2-8f3e-7b4c-9d2e-1a2b3c4d5e6f")
        XCTAssertEqual(fromOldCursor, all)
        let fromGarbage = try await ids(after: "garbage")
        XCTAssertEqual(fromGarbage, all)
    }

    func testPurgeKeepsTheNewestEventSoSequenceNumbersAreNeverReused() async throws {
        try await reopen(keepingEventsFor: 1_000, thenPush: 3)
        let before = try await ids()
        clock.advance(10_000)
        let report = try await store.tick()
        XCTAssertEqual(report.purge.events, 2, "every event is past retention, but the newest stays")
        let left = try await ids()
        XCTAssertEqual(left, [before[2]])
        try await push(#"{"type":"t","args":[]}"#)
        let after = try await ids(after: before[2])
        XCTAssertEqual(after.count, 1)
        XCTAssertGreaterThan(EventLog.seq(id: after[0]) ?? 0, EventLog.seq(id: before[2]) ?? .max, "a client's cursor still sees it")
    }

    func testPurgeStopsAtTheFirstEventInsideRetention() async throws {
        try await reopen(keepingEventsFor: 5_000, thenPush: 3)
        clock.advance(10_000)
        for _ in 0..<2 { try await push(#"{"type":"t","args":[]}"#) }
        let recent = Array(try await ids().suffix(2))
        let report = try await store.tick()
        XCTAssertEqual(report.purge.events, 3)
        let kept = try await ids()
        XCTAssertEqual(kept, recent)
    }

    func testMigrationKeepsEarlierEventsInOrderUnderTheirSequenceNumbers() throws {
        let path = directory.appendingPathComponent("upgrade.db").path
        let db = try Connection(path: path, options: .init(readOnly: false))
        try Migrations.apply(to: db, migrations: Array(Migrations.all.prefix(8)))
        for n in 1...3 {
            try db.run(
                "INSERT INTO events (id, type, subject, queue, job_type, time, data) VALUES (?, 'job.enqueued', 'j', 'q', 't', ?, '{}')",
                [.text("evt_\(UUID().uuidString)"), .int(Int64(n))]
            )
        }
        try db.run("DELETE FROM events WHERE seq = 1")
        XCTAssertEqual(try Migrations.apply(to: db, migrations: Array(Migrations.all.prefix(9))), ["0009_compact_event_log.sql"])
        var rows: [[Int64]] = []
        try db.query("SELECT seq, time FROM events ORDER BY seq") { rows.append([$0.int(0), $0.int(1)]) }
        XCTAssertEqual(rows, [[2, 2], [3, 3]])
        var indexes: [String] = []
        try db.query("SELECT name FROM sqlite_master WHERE tbl_name = 'events' AND type = 'index'") { indexes.append($0.text(0)) }
        XCTAssertEqual(indexes, [], "the log is one b-tree")
        try db.run("INSERT INTO events (type, time, data) VALUES ('job.enqueued', 4, '{}')")
        XCTAssertEqual(try db.first("SELECT max(seq) FROM events") { $0.int(0) }, 4)
    }

    /// `GET /ojs/v1/events` and the live stream select types by one rule: exact names, and
    /// `x.*` prefixes compared exactly (case matters; `_` is not a wildcard).
    func testTypePrefixesAreExactAndTheSameForThePollingAPIAndTheStream() async throws {
        try await push(#"{"type":"t","args":[],"options":{"queue":"q"}}"#)
        _ = try await store.setPaused("q", paused: true)
        for (types, expected) in [
            (["job.*"], ["job.enqueued"]), (["JOB.*"], []), (["queue.*", "job.enqueued"], ["job.enqueued", "queue.paused"]),
            (["job_*"], []), (["queue.paused"], ["queue.paused"]), ([], ["job.enqueued", "queue.paused"]),
        ] {
            var query = EventQuery()
            query.types = types
            let polled = try await store.events(query).events.map { event -> String in
                guard case .object(let object) = try JSONParser.parse(event), case .string(let type)? = object["type"] else { return "" }
                return type
            }
            XCTAssertEqual(polled, expected, "GET /ojs/v1/events, types \(types)")
            let streamed = try await store.eventRecords(after: 0, matching: EventFilter(types: types), limit: 100).map(\.type)
            XCTAssertEqual(streamed, expected, "the stream's log reads, types \(types)")
        }
    }
}
