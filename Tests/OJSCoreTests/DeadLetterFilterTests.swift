import OJSCore
import XCTest

final class DeadLetterFilterTests: XCTestCase {
    func parse(_ json: String) throws -> DeadLetterFilter { try DeadLetterFilter.parse(try JSONParser.parse(json)) }

    func testParsesEveryField() throws {
        let f = try parse(
            #"{"queue":"q","type":"t","error_code":"c","error_type":"e","since":"2026-01-01T00:00:00Z","until":"2026-01-02T00:00:00Z","limit":5,"confirm":true}"#
        )
        XCTAssertEqual(f.queue, "q")
        XCTAssertEqual(f.type, "t")
        XCTAssertEqual(f.errorCode, "c")
        XCTAssertEqual(f.errorType, "e")
        XCTAssertEqual(f.since, Timestamp.parse("2026-01-01T00:00:00Z"))
        XCTAssertEqual(f.until, Timestamp.parse("2026-01-02T00:00:00Z"))
        XCTAssertEqual(f.limit, 5)
        XCTAssertTrue(f.confirmed)
        XCTAssertEqual(try parse("{}"), DeadLetterFilter(), "empty: everything, bounded by the maximum")
        XCTAssertEqual(DeadLetterFilter().limit, DeadLetterFilter.maxLimit)
    }

    func testRejectsBadFilters() {
        let bad = [
            #"[]"#, #"{"queues":"q"}"#, #"{"queue":1}"#, #"{"queue":""}"#, #"{"since":"yesterday"}"#,
            #"{"since":"2026-01-02T00:00:00Z","until":"2026-01-01T00:00:00Z"}"#, #"{"limit":0}"#, #"{"limit":1.5}"#,
            #"{"limit":100001}"#, #"{"confirm":"yes"}"#,
        ]
        for json in bad {
            XCTAssertThrowsError(try parse(json), json) { error in
                XCTAssertEqual((error as? OJSError)?.code, .invalidRequest, json)
            }
        }
    }
}
