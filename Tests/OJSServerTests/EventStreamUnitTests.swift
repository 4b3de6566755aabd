import OJSCore
import OJSStore
import XCTest

@testable import OJSServer

/// The live feed's pure parts: the ring's window, the filter's rules, the frame's fields.
final class EventStreamUnitTests: XCTestCase {
    func record(_ seq: Int64, _ type: String = "job.enqueued", queue: String? = "q", subject: String? = "j", data: String = "{}") -> EventRecord {
        EventRecord(seq: seq, type: type, subject: subject, queue: queue, jobType: "t", time: 0, data: data)
    }

    func testTheRingHoldsTheNewestEventsAndSaysWhenACursorFellBehind() {
        var ring = EventRing(capacity: 3, head: 10)
        XCTAssertEqual(ring.events(after: 10, limit: 5)?.count, 0)
        XCTAssertNil(ring.events(after: 9, limit: 5), "events at or before the start were never in the ring")
        for seq in 11...15 { ring.append(FeedEvent(record(Int64(seq)))) }
        XCTAssertEqual(ring.floor, 12)
        XCTAssertEqual(ring.head, 15)
        XCTAssertNil(ring.events(after: 11, limit: 5), "13 is held but 12 left the ring")
        XCTAssertEqual(ring.events(after: 12, limit: 5)?.map(\.record.seq), [13, 14, 15])
        XCTAssertEqual(ring.events(after: 13, limit: 1)?.map(\.record.seq), [14])
        XCTAssertEqual(ring.events(after: 15, limit: 5)?.count, 0)
    }

    func testFiltersMatchChannelsAndTypePrefixes() {
        XCTAssertTrue(EventFilter().matches(record(1)))
        XCTAssertTrue(EventFilter(subject: "j").matches(record(1)))
        XCTAssertFalse(EventFilter(subject: "k").matches(record(1)))
        XCTAssertFalse(EventFilter(queue: "other").matches(record(1)))
        XCTAssertTrue(EventFilter(types: ["job.*"]).matches(record(1)))
        XCTAssertFalse(EventFilter(types: ["job.*"]).matches(record(1, "queue.paused")))
        XCTAssertTrue(EventFilter(types: ["job.completed", "queue.paused"]).matches(record(1, "queue.paused")))
        XCTAssertFalse(EventFilter(types: ["job"]).matches(record(1)))
    }

    func testAFrameIsOneEventWithItsJobAndStates() throws {
        let frame = EventFrame.render(record(7, "job.completed", data: #"{"job_type":"t","queue":"q","attempt":1,"state":"completed"}"#))
        let lines = frame.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(Array(lines.prefix(2)), ["id: evt_7", "event: job.completed"])
        XCTAssertTrue(frame.hasSuffix("\n\n"))
        XCTAssertEqual(lines.count, 5, "id, event, one data line, and the blank line")
        guard case .object(let data) = try JSONParser.parse(String(lines[2].dropFirst(6))) else { return XCTFail(frame) }
        XCTAssertEqual(data["id"], "evt_7")
        XCTAssertEqual(data["job_id"], "j")
        XCTAssertEqual(data["from"], "active")
        XCTAssertEqual(data["to"], "completed")
        XCTAssertEqual(data["attempt"], .int(1))
        XCTAssertEqual(data.entries.filter { $0.key == "queue" }.count, 1, "no key twice")
        let paused = EventFrame.render(record(8, "queue.paused", subject: "q", data: #"{"queue":"q"}"#))
        XCTAssertFalse(paused.contains("\"to\""))
        XCTAssertFalse(paused.contains("job_id"))
    }
}
