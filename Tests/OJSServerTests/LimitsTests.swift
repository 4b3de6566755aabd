import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OJSCore
import OJSServer
import XCTest

/// Per-request limits that need the parsed body, each answered with an OJS error naming the
/// field and the bound. (Header size, timeouts and connections are process-level:
/// `IntegrationTests/ConnectionLimitsTests`.)
final class LimitsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-limits-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    static func small(_ config: inout ServerConfiguration) {
        config.limits.maxArgsBytes = 100
        config.limits.maxMetaBytes = 50
        config.limits.maxBatchSize = 3
        config.limits.maxQueuesPerFetch = 2
        config.limits.maxFetchCount = 5
    }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ body: String) async throws -> (HTTPResponse.Status, JSONValue) {
        let r = try await client.execute(uri: uri, method: .post, headers: APITests.ojsJSON, body: ByteBuffer(string: body))
        return (r.status, try APITests.json(r))
    }

    func testEachLimitIsAnsweredWithAnOJSErrorNamingTheField() async throws {
        try await TestApp.run(directory: directory, configure: Self.small) { client in
            let bigArgs = #"{"type":"a","args":["\#(String(repeating: "x", count: 200))"]}"#
            var (status, body) = try await Self.post(client, "/ojs/v1/jobs", bigArgs)
            XCTAssertEqual(status, .contentTooLarge)
            XCTAssertEqual(body["error"]?["code"], "payload_too_large")
            XCTAssertEqual(body["error"]?["details"]?["field"], "args")
            XCTAssertEqual(body["error"]?["details"]?["limit"], 100)

            // options.metadata is merged into meta before the bound is checked.
            let bigMeta =
                #"{"type":"a","args":[],"meta":{"a":"\#(String(repeating: "y", count: 20))"},"options":{"metadata":{"b":"\#(String(repeating: "z", count: 30))"}}}"#
            (status, body) = try await Self.post(client, "/ojs/v1/jobs", bigMeta)
            XCTAssertEqual(status, .contentTooLarge)
            XCTAssertEqual(body["error"]?["details"]?["field"], "meta")

            (status, body) = try await Self.post(
                client,
                "/ojs/v1/jobs/batch",
                #"{"jobs":[{"type":"a","args":[]},{"type":"a","args":[]},{"type":"a","args":[]},{"type":"a","args":[]}]}"#
            )
            XCTAssertEqual(status, .badRequest)
            XCTAssertEqual(body["error"]?["details"]?["field"], "jobs")

            // A batch element past a bound is reported with its index; nothing is created.
            (status, body) = try await Self.post(client, "/ojs/v1/jobs/batch", #"{"jobs":[{"type":"a","args":[]},\#(bigArgs)]}"#)
            XCTAssertEqual(status, .contentTooLarge)
            XCTAssertEqual(body["error"]?["details"]?["index"], 1)

            (status, body) = try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["a","b","c"]}"#)
            XCTAssertEqual(status, .badRequest)
            XCTAssertEqual(body["error"]?["details"]?["field"], "queues")
            // Repeated names count once.
            (status, _) = try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["a","b","a"]}"#)
            XCTAssertEqual(status, .ok)

            (status, body) = try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["a"],"count":6}"#)
            XCTAssertEqual(status, .badRequest)
            XCTAssertEqual(body["error"]?["details"]?["field"], "count")

            let workflow = #"{"type":"chain","steps":[{"type":"a","args":[]},\#(bigArgs)]}"#
            (status, body) = try await Self.post(client, "/ojs/v1/workflows", workflow)
            XCTAssertEqual(status, .contentTooLarge)

            // Nothing above was stored; jobs within the bounds still are.
            (status, _) = try await Self.post(
                client,
                "/ojs/v1/jobs/batch",
                #"{"jobs":[{"type":"a","args":[1]},{"type":"a","args":[2]},{"type":"a","args":[3]}]}"#
            )
            XCTAssertEqual(status, .created)
            let stats = try await client.execute(uri: "/ojs/v1/queues/default/stats", method: .get)
            XCTAssertEqual(try APITests.json(stats)["stats"]?["available"], 3)
        }
    }
}
