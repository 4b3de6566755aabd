import XCTest

@testable import OJSCore

final class JobSpecTests: XCTestCase {
    let now: Int64 = 1_770_892_200_000

    func parse(_ json: String) throws -> JobSpec { try JobSpec.parse(try JSONParser.parse(json), now: now) }

    func assertInvalid(
        _ json: String,
        code: OJSError.Code = .invalidRequest,
        mentions: String? = nil,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try parse(json), file: file, line: line) { error in
            guard let e = error as? OJSError else { return XCTFail("not an OJSError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.code, code, e.message, file: file, line: line)
            XCTAssertFalse(e.retryable, file: file, line: line)
            if let mentions { XCTAssertTrue(e.message.contains(mentions), e.message, file: file, line: line) }
        }
    }

    func testMinimalJobGetsDefaults() throws {
        let spec = try parse(#"{"type":"email.send","args":[]}"#)
        XCTAssertEqual(spec.queue, "default")
        XCTAssertEqual(spec.priority, 0)
        XCTAssertEqual(spec.retry.maxAttempts, 3)
        XCTAssertNil(spec.id)
    }

    func testTypeAndQueuePatterns() throws {
        XCTAssertNoThrow(try parse(#"{"type":"retry.test.max-attempts","args":[]}"#))
        for bad in ["Email.Send", "email send", "1email", "", "email@send!", "a..b", "a."] {
            assertInvalid(#"{"type":"\#(bad)","args":[]}"#, mentions: "type")
        }
        for bad in ["Default", "my_queue!", "-invalid", "my queue"] {
            assertInvalid(#"{"type":"a","args":[],"options":{"queue":"\#(bad)"}}"#, mentions: "queue")
        }
        assertInvalid(#"{"args":[]}"#, mentions: "type")
    }

    func testArgsMustBeAnArray() {
        for bad in [#"{"a":1}"#, #""s""#, "1", "true", "null"] {
            assertInvalid(#"{"type":"a","args":\#(bad)}"#, mentions: "args")
        }
        assertInvalid(#"{"type":"a"}"#, mentions: "args")
    }

    func testIdsMustBeLowercaseUUIDv7() throws {
        XCTAssertEqual(try parse(#"{"type":"a","args":[],"id":"019461a8-1a2b-7c3d-8e4f-5a6b7c8d9e0f"}"#).id, "019461a8-1a2b-7c3d-8e4f-5a6b7c8d9e0f")
        for bad in ["550e8400-e29b-41d4-a716-446655440000", "not-a-uuid", "019461A8-1A2B-7C3D-8E4F-5A6B7C8D9E0F", ""] {
            assertInvalid(#"{"type":"a","args":[],"id":"\#(bad)"}"#, mentions: "id")
        }
    }

    func testPriorityRange() throws {
        for p in [-100, -10, 0, 10, 100] {
            XCTAssertEqual(try parse(#"{"type":"a","args":[],"options":{"priority":\#(p)}}"#).priority, p)
        }
        for bad in ["101", "-101", "999999", "1.5", "\"urgent\""] {
            assertInvalid(#"{"type":"a","args":[],"options":{"priority":\#(bad)}}"#, mentions: "priority")
        }
    }

    func testUnknownFieldsArePreservedAndSystemFieldsIgnored() throws {
        let spec = try parse(#"{"type":"a","args":[1],"x_custom":{"n":[1,2]},"state":"completed","attempt":9,"result":1}"#)
        XCTAssertEqual(spec.extra.keys, ["x_custom"])
        let doc = JSONValue.object(spec.document())
        XCTAssertEqual(doc["x_custom"], ["n": [1, 2]])
        XCTAssertNil(doc["state"])
    }

    func testSchedulingResolvesRelativeAndEchoesAbsoluteVerbatim() throws {
        let relative = try parse(#"{"type":"a","args":[],"options":{"scheduled_at":"+PT5S"}}"#)
        XCTAssertEqual(relative.scheduledAt?.millis, now + 5000)
        XCTAssertEqual(relative.scheduledAt?.text, "2026-02-12T10:30:05.000Z")
        let absolute = try parse(#"{"type":"a","args":[],"options":{"expires_at":"2099-12-31T23:59:59Z"}}"#)
        XCTAssertEqual(absolute.expiresAt?.text, "2099-12-31T23:59:59Z")
        assertInvalid(#"{"type":"a","args":[],"options":{"scheduled_at":"2026-02-12T10:30:00"}}"#, mentions: "scheduled_at")
    }

    func testMetadataMergesIntoMeta() throws {
        let spec = try parse(#"{"type":"a","args":[],"meta":{"a":1},"options":{"metadata":{"test_directive":"quiet"}}}"#)
        XCTAssertEqual(JSONValue.object(spec.meta), ["a": 1, "test_directive": "quiet"])
    }

    func testRetryPolicyErrorsAre422NamingTheField() {
        assertInvalid(#"{"type":"a","args":[],"options":{"retry":{"max_attempts":-1}}}"#, code: .validationError, mentions: "max_attempts")
        assertInvalid(
            #"{"type":"a","args":[],"options":{"retry":{"backoff_coefficient":0.5}}}"#,
            code: .validationError,
            mentions: "backoff_coefficient"
        )
        assertInvalid(
            #"{"type":"a","args":[],"options":{"retry":{"initial_interval":"soon"}}}"#,
            code: .validationError,
            mentions: "initial_interval"
        )
        assertInvalid(#"{"type":"a","args":[],"options":{"retry":{"on_exhaustion":"explode"}}}"#, code: .validationError, mentions: "on_exhaustion")
    }

    func testUniqueFingerprints() throws {
        let policy = try UniquePolicy.parse(["keys": ["type", "args"], "on_conflict": "ignore"])
        let a = policy.fingerprint(type: "t", queue: "q1", args: [1, ["b": 2, "a": 1]], meta: [:])
        let b = policy.fingerprint(type: "t", queue: "q2", args: [1, ["a": 1, "b": 2]], meta: [:])
        let c = policy.fingerprint(type: "t", queue: "q1", args: [2], meta: [:])
        XCTAssertEqual(a, b, "queue is not a dimension and key order must not matter")
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(policy.onConflict, .ignore)
        XCTAssertThrowsError(try UniquePolicy.parse(["states": ["finished"]]))
    }
}
