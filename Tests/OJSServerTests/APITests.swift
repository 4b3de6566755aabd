import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OJSCore
import OJSServer
import OJSStore
import XCTest

final class APITests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-api-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func withApp(
        testMode: Bool = true,
        maxBody: Int = 1 << 20,
        apiKeys: [String] = [],
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestApp.run(
            directory: directory,
            configure: { config in
                config.testMode = testMode
                config.maxBodyBytes = maxBody
                config.apiKeys = apiKeys
            },
            body
        )
    }

    static let ojsJSON = TestApp.ojsJSON

    static func json(_ response: TestResponse) throws -> JSONValue { try TestApp.json(response) }

    func testPushGetFetchAckFlowWithHeaders() async throws {
        try await withApp { client in
            let pushed = try await client.execute(
                uri: "/ojs/v1/jobs",
                method: .post,
                headers: Self.ojsJSON,
                body: ByteBuffer(string: #"{"type":"email.send","args":["a@b.c",1.5],"meta":{"k":"v"},"x_extra":[1]}"#)
            )
            XCTAssertEqual(pushed.status, .created)
            XCTAssertEqual(pushed.headers[.contentType], "application/openjobspec+json")
            XCTAssertEqual(pushed.headers[HTTPField.Name("OJS-Version")!], "1.0")
            XCTAssertNotNil(pushed.headers[HTTPField.Name("X-Request-Id")!])
            let job = try Self.json(pushed)["job"]
            let id = try XCTUnwrap(job?["id"]?.stringValue)
            XCTAssertTrue(UUIDv7.isValid(id))
            XCTAssertEqual(pushed.headers[.location], "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(job?["args"], ["a@b.c", 1.5])
            XCTAssertEqual(job?["x_extra"], [1])

            let got1 = try await client.execute(uri: "/ojs/v1/jobs/\(id)", method: .get)
            let got2 = try await client.execute(uri: "/ojs/v1/jobs/\(id)", method: .get)
            XCTAssertEqual(String(buffer: got1.body), String(buffer: got2.body), "GET bodies carry no per-request values")

            let fetched = try await client.execute(
                uri: "/ojs/v1/workers/fetch",
                method: .post,
                headers: Self.ojsJSON,
                body: ByteBuffer(string: #"{"queues":["default"],"worker_id":"w1"}"#)
            )
            XCTAssertEqual(try Self.json(fetched)["jobs"]?.arrayValue?.first?["state"], "active")
            let acked = try await client.execute(
                uri: "/ojs/v1/workers/ack",
                method: .post,
                headers: Self.ojsJSON,
                body: ByteBuffer(string: #"{"job_id":"\#(id)","result":{"ok":true}}"#)
            )
            XCTAssertEqual(try Self.json(acked)["state"], "completed")
            let again = try await client.execute(
                uri: "/ojs/v1/workers/ack",
                method: .post,
                headers: Self.ojsJSON,
                body: ByteBuffer(string: #"{"job_id":"\#(id)"}"#)
            )
            XCTAssertEqual(again.status, .conflict)
            XCTAssertEqual(try Self.json(again)["error"]?["code"], "conflict")
        }
    }

    func testBadInputGetsOJSErrors() async throws {
        try await withApp(maxBody: 1024) { client in
            let cases: [(String, HTTPRequest.Method, String?, HTTPResponse.Status, String)] = [
                ("/ojs/v1/jobs", .post, "{ invalid json }", .badRequest, "invalid_payload"),
                ("/ojs/v1/jobs", .post, "", .badRequest, "invalid_payload"),
                ("/ojs/v1/jobs", .post, "[1,2]", .badRequest, "invalid_payload"),
                ("/ojs/v1/jobs", .post, #"{"args":[]}"#, .badRequest, "invalid_request"),
                (
                    "/ojs/v1/jobs", .post, #"{"type":"a","args":[],"options":{"retry":{"max_attempts":-1}}}"#, .unprocessableContent,
                    "validation_error"
                ),
                ("/ojs/v1/jobs", .post, #"{"type":"a","args":["\#(String(repeating: "x", count: 2000))"]}"#, .contentTooLarge, "payload_too_large"),
                ("/ojs/v1/jobs/019461a8-1a2b-7c3d-8e4f-5a6b7c8d9e0f", .get, nil, .notFound, "not_found"),
                ("/ojs/v1/nothing-here", .get, nil, .notFound, "not_found"),
                ("/ojs/v1/workers/fetch", .post, #"{"queues":[]}"#, .badRequest, "invalid_request"),
                ("/ojs/v1/workers/heartbeat", .post, #"{"active_jobs":[]}"#, .badRequest, "invalid_request"),
            ]
            for (path, method, body, status, code) in cases {
                let response = try await client.execute(
                    uri: path,
                    method: method,
                    headers: body == nil ? [:] : Self.ojsJSON,
                    body: body.map { ByteBuffer(string: $0) }
                )
                XCTAssertEqual(response.status, status, "\(method) \(path) \(body?.prefix(80) ?? "")")
                let error = try Self.json(response)["error"]
                XCTAssertEqual(error?["code"]?.stringValue, code, "\(path) \(body?.prefix(80) ?? "")")
                XCTAssertEqual(error?["retryable"], false)
                XCTAssertNotNil(error?["message"]?.stringValue)
                XCTAssertNotNil(error?["request_id"]?.stringValue)
                XCTAssertEqual(response.headers[.contentType], "application/openjobspec+json")
            }
        }
    }

    func testRequestIdIsEchoed() async throws {
        try await withApp { client in
            let response = try await client.execute(uri: "/ojs/v1/health", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "abc-123"])
            XCTAssertEqual(response.headers[HTTPField.Name("X-Request-Id")!], "abc-123")
        }
    }

    func testResetExistsOnlyInTestMode() async throws {
        try await withApp(testMode: false) { client in
            let response = try await client.execute(uri: "/ojs/v1/admin/reset", method: .post)
            XCTAssertEqual(response.status, .notFound)
        }
        try await withApp(testMode: true) { client in
            let response = try await client.execute(uri: "/ojs/v1/admin/reset", method: .post)
            XCTAssertEqual(response.status, .ok)
        }
    }

    func testHeartbeatTestDirectiveOnlyInTestMode() async throws {
        for testMode in [false, true] {
            try await withApp(testMode: testMode) { client in
                let pushed = try await client.execute(
                    uri: "/ojs/v1/jobs",
                    method: .post,
                    headers: Self.ojsJSON,
                    body: ByteBuffer(string: #"{"type":"a","args":[],"options":{"metadata":{"test_directive":"quiet"}}}"#)
                )
                let id = try XCTUnwrap(try Self.json(pushed)["job"]?["id"]?.stringValue)
                _ = try await client.execute(
                    uri: "/ojs/v1/workers/fetch",
                    method: .post,
                    headers: Self.ojsJSON,
                    body: ByteBuffer(string: #"{"queues":["default"]}"#)
                )
                let beat = try await client.execute(
                    uri: "/ojs/v1/workers/heartbeat",
                    method: .post,
                    headers: Self.ojsJSON,
                    body: ByteBuffer(string: #"{"worker_id":"w","active_jobs":["\#(id)"]}"#)
                )
                XCTAssertEqual(try Self.json(beat)["state"]?.stringValue, testMode ? "quiet" : "running")
            }
        }
    }

    func testMetricsAreExposedWithOJSNames() async throws {
        try await withApp { client in
            _ = try await client.execute(
                uri: "/ojs/v1/jobs",
                method: .post,
                headers: Self.ojsJSON,
                body: ByteBuffer(string: #"{"type":"m.t","args":[],"options":{"queue":"mq"}}"#)
            )
            let response = try await client.execute(uri: "/metrics", method: .get)
            XCTAssertEqual(response.status, .ok)
            let text = String(buffer: response.body)
            for name in [
                #"ojs_jobs{queue="mq",state="available"} 1"#, "ojs_http_requests_total{", "ojs_http_request_duration_seconds_bucket{",
                "ojs_writer_batch_size_bucket{", "ojs_writer_commit_duration_seconds_count", "ojs_dead_letter_jobs 0",
                #"ojs_queue_oldest_available_age_seconds{queue="mq"}"#,
            ] {
                XCTAssertTrue(text.contains(name), "missing \(name) in:\n\(text.prefix(2000))")
            }
        }
    }

    func testAPIKeysGuardEveryEndpointButHealthAndManifest() async throws {
        try await withApp(apiKeys: ["k1", "k2"]) { client in
            let open = try await client.execute(uri: "/ojs/v1/health", method: .get)
            XCTAssertEqual(open.status, .ok)
            let manifest = try await client.execute(uri: "/ojs/manifest", method: .get)
            XCTAssertEqual(manifest.status, .ok)
            let anonymous = try await client.execute(uri: "/ojs/v1/queues", method: .get)
            XCTAssertEqual(anonymous.status, .unauthorized)
            XCTAssertEqual(try Self.json(anonymous)["error"]?["code"], "unauthorized")
            XCTAssertEqual(try Self.json(anonymous)["error"]?["retryable"], false)
            let wrong = try await client.execute(
                uri: "/ojs/v1/jobs",
                method: .post,
                headers: [.authorization: "Bearer k3", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"type":"a","args":[]}"#)
            )
            XCTAssertEqual(wrong.status, .unauthorized)
            for key in ["k1", "k2"] {
                let ok = try await client.execute(
                    uri: "/ojs/v1/jobs",
                    method: .post,
                    headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"type":"a","args":[]}"#)
                )
                XCTAssertEqual(ok.status, .created, key)
            }
        }
    }

    func testStartupRefusals() {
        var config = ServerConfiguration()
        config.host = "0.0.0.0"
        XCTAssertNotNil(config.startupRefusal(allowInsecureNoAuth: false), "open listener without a key")
        XCTAssertNil(config.startupRefusal(allowInsecureNoAuth: true))
        config.apiKeys = ["k"]
        XCTAssertTrue(
            config.startupRefusal(allowInsecureNoAuth: false)?.contains("OJS_REPLICATION_KEY") == true,
            "an API key does not close replication"
        )
        config.replicationKeys = ["r"]
        XCTAssertNil(config.startupRefusal(allowInsecureNoAuth: false))
        config.testMode = true
        XCTAssertNotNil(config.startupRefusal(allowInsecureNoAuth: true), "test mode only on loopback")
        config.host = "127.0.0.1"
        config.apiKeys = []
        XCTAssertNil(config.startupRefusal(allowInsecureNoAuth: false))
        XCTAssertEqual(ServerConfiguration.parseKeys(" a, b ,,c"), ["a", "b", "c"])
    }
}
