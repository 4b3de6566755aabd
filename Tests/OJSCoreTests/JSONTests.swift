import XCTest

@testable import OJSCore

final class JSONTests: XCTestCase {
    func testNumbersKeepTheirKind() throws {
        let v = try JSONParser.parse(#"[42, 3.14, 1.0, -0, 1e3, true, null, 9223372036854775807]"#)
        XCTAssertEqual(v, [.int(42), .double(3.14), .double(1.0), .int(0), .double(1000), .bool(true), .null, .int(Int64.max)])
        XCTAssertEqual(v.jsonText, "[42,3.14,1.0,0,1000.0,true,null,9223372036854775807]")
    }

    func testObjectKeyOrderIsPreservedAndLastDuplicateWins() throws {
        let v = try JSONParser.parse(#"{"b":1,"a":2,"b":3}"#)
        XCTAssertEqual(v.objectValue?.keys, ["b", "a"])
        XCTAssertEqual(v["b"], .int(3))
        XCTAssertEqual(v.canonicalText, #"{"a":2,"b":3}"#)
    }

    func testStringEscapesRoundTrip() throws {
        let text = #""quote\" backslash\\ slash\/ tab\t nl\n uni\u00e9 emoji\ud83d\ude00 ctl\u0001""#
        let v = try JSONParser.parse(text)
        XCTAssertEqual(v.stringValue, "quote\" backslash\\ slash/ tab\t nl\n unié emoji😀 ctl\u{01}")
        XCTAssertEqual(try JSONParser.parse(v.jsonText), v)
    }

    func testRejectsMalformedInput() {
        for bad in ["", "{ invalid json }", "{\"a\":}", "[1,]", "01", "1.", "\"unterminated", "{\"a\" 1}", "nul", "[1] x", "\"\\ud800\""] {
            XCTAssertThrowsError(try JSONParser.parse(bad), bad)
        }
    }

    func testDepthIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONParser.parse(deep))
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertNoThrow(try JSONParser.parse(ok))
    }

    func testWriterSplicesStoredDocuments() {
        var w = JSONWriter()
        w.beginObject()
        w.field("id", "x")
        w.spliceObjectMembers(#"{"args":[1],"meta":{}}"#)
        w.spliceObjectMembers("{}")
        w.field("z", true)
        w.endObject()
        XCTAssertEqual(w.string, #"{"id":"x","args":[1],"meta":{},"z":true}"#)
    }
}
