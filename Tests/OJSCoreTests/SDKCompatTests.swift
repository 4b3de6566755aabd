import XCTest

@testable import OJSCore

/// Request shapes the official SDKs and CLI send where they differ from the conformance suite.
final class SDKCompatTests: XCTestCase {
    func testHeartbeatAcceptsIdArrayOrCountWithIds() throws {
        let suite = try HeartbeatRequest.parse(try JSONParser.parse(#"{"worker_id":"w","active_jobs":["a","b"]}"#))
        XCTAssertEqual(suite.jobIds, ["a", "b"])
        let js = try HeartbeatRequest.parse(
            try JSONParser.parse(#"{"worker_id":"w","state":"running","active_jobs":2,"active_job_ids":["a","b"],"hostname":"h","pid":1}"#)
        )
        XCTAssertEqual(js.jobIds, ["a", "b"])
        XCTAssertEqual(js.activeJobCount, 2)
        let single = try HeartbeatRequest.parse(try JSONParser.parse(#"{"worker_id":"w","job_id":"a"}"#))
        XCTAssertEqual(single.jobIds, ["a"])
        let draining = try HeartbeatRequest.parse(try JSONParser.parse(#"{"worker_id":"w","active_jobs":0,"shutdown":true}"#))
        XCTAssertEqual(draining.reportedState, "drain")
    }

    func testUniqueKeySpellings() throws {
        let python = try UniquePolicy.parse(try JSONParser.parse(#"{"key":["type","args"],"period":"PT1H","on_conflict":"ignore"}"#))
        XCTAssertEqual(python.dimensions, [.type, .args])
        XCTAssertEqual(python.periodMs, 3_600_000)
        let cli = try UniquePolicy.parse(try JSONParser.parse(#"{"key":"invoice-42","within":60}"#))
        XCTAssertEqual(cli.customKey, "invoice-42")
        XCTAssertEqual(cli.periodMs, 60_000)
        XCTAssertNotEqual(
            cli.fingerprint(type: "t", queue: "q", args: [], meta: [:]),
            try UniquePolicy.parse(try JSONParser.parse(#"{"key":"invoice-43"}"#)).fingerprint(type: "t", queue: "q", args: [], meta: [:])
        )
    }

    func testCLIMaxAttemptsOption() throws {
        let spec = try JobSpec.parse(try JSONParser.parse(#"{"type":"a","args":[],"options":{"max_attempts":7}}"#), now: 0)
        XCTAssertEqual(spec.retry.maxAttempts, 7)
    }

    func testPythonStepGraphIsADAGWorkflow() throws {
        let def = try WorkflowDefinition.parse(
            try JSONParser.parse(#"{"name":"etl","steps":[{"id":"a","type":"x","args":[]},{"id":"b","type":"y","args":[],"depends_on":["a"]}]}"#),
            now: 0
        )
        XCTAssertEqual(def.kind, .dag)
        XCTAssertEqual(def.steps.map(\.dependsOn), [[], [0]])
        XCTAssertNil(def.steps[0].request["id"], "step ids are not job ids")
    }

    func testCronFlatForm() throws {
        let def = try CronDefinition.parse(
            try JSONParser.parse(#"{"name":"n","cron":"0 9 * * *","type":"report.generate","args":[1],"timezone":"Asia/Tokyo"}"#),
            now: 0
        )
        XCTAssertEqual(def.template["type"], "report.generate")
        XCTAssertEqual(def.timezone, "Asia/Tokyo")
    }
}
