import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OJSCore
import XCTest

/// `POST /ojs/v1/dead-letter/retry` and `/delete` (and their admin-prefix twins).
final class DeadLetterBulkAPITests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-dlq-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    static func post(_ client: any TestClientProtocol, _ uri: String, _ body: String?) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: TestApp.ojsJSON, body: body.map { ByteBuffer(string: $0) })
    }

    /// Pushes a job that dead-letters on its first failure, claims it and fails it.
    static func deadLetter(_ client: any TestClientProtocol, queue: String, type: String) async throws -> String {
        let pushed = try TestApp.json(
            try await Self.post(
                client,
                "/ojs/v1/jobs",
                #"{"type":"\#(type)","args":[],"options":{"queue":"\#(queue)","retry":{"max_attempts":1,"on_exhaustion":"dead_letter"}}}"#
            )
        )
        let id = try XCTUnwrap(pushed["job"]?["id"]?.stringValue)
        _ = try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["\#(queue)"]}"#)
        let failed = try await Self.post(
            client,
            "/ojs/v1/workers/nack",
            #"{"job_id":"\#(id)","error":{"code":"boom","message":"failed","retryable":true}}"#
        )
        XCTAssertEqual(failed.status, .ok)
        return id
    }

    func testReplaysExactlyTheJobsMatchingQueueAndType() async throws {
        try await TestApp.run(directory: directory) { client in
            let a1 = try await Self.deadLetter(client, queue: "a", type: "x")
            let a2 = try await Self.deadLetter(client, queue: "a", type: "x")
            _ = try await Self.deadLetter(client, queue: "a", type: "y")
            let b1 = try await Self.deadLetter(client, queue: "b", type: "x")

            let replayed = try await Self.post(client, "/ojs/v1/dead-letter/retry", #"{"queue":"a","type":"x"}"#)
            XCTAssertEqual(replayed.status, .ok)
            let body = try TestApp.json(replayed)
            XCTAssertEqual(body["replayed"], 2)
            XCTAssertEqual(body["job_ids"], .array([.string(a1), .string(a2)]))
            XCTAssertEqual(body["remaining"], 0)
            let state = try TestApp.json(try await client.execute(uri: "/ojs/v1/jobs/\(a1)", method: .get))["job"]?["state"]
            XCTAssertEqual(state, "available")

            let admin = try TestApp.json(try await Self.post(client, "/ojs/v1/admin/dead-letter/retry", #"{"queue":"b"}"#))
            XCTAssertEqual(admin["job_ids"], .array([.string(b1)]), "the admin prefix selects the same way")
            let left = try TestApp.json(try await client.execute(uri: "/ojs/v1/dead-letter", method: .get))
            XCTAssertEqual(left["pagination"]?["total"], 1, "only a/y is left")
        }
    }

    func testBulkDeleteNeedsConfirmationAndBadFiltersGetOJSErrors() async throws {
        try await TestApp.run(directory: directory) { client in
            let id = try await Self.deadLetter(client, queue: "a", type: "x")
            for (uri, body) in [
                ("/ojs/v1/dead-letter/retry", #"{"queue":5}"#), ("/ojs/v1/dead-letter/retry", #"{"limit":0}"#),
                ("/ojs/v1/dead-letter/retry", #"{"since":"not a time"}"#), ("/ojs/v1/dead-letter/retry", #"{"queues":["a"]}"#),
                ("/ojs/v1/dead-letter/delete", #"{"queue":"a"}"#),
            ] {
                let response = try await Self.post(client, uri, body)
                XCTAssertEqual(response.status, .badRequest, body)
                let error = try TestApp.json(response)["error"]
                XCTAssertEqual(error?["code"], "invalid_request", body)
                XCTAssertEqual(error?["retryable"], false, body)
                XCTAssertNotNil(error?["message"]?.stringValue, body)
            }
            let kept = try await client.execute(uri: "/ojs/v1/jobs/\(id)", method: .get)
            XCTAssertEqual(try TestApp.json(kept)["job"]?["state"], "discarded", "a refused request changes nothing")

            let deleted = try TestApp.json(try await Self.post(client, "/ojs/v1/dead-letter/delete", #"{"queue":"a","confirm":true}"#))
            XCTAssertEqual(deleted["deleted"], 1)
            let gone = try await client.execute(uri: "/ojs/v1/jobs/\(id)", method: .get)
            XCTAssertEqual(gone.status, .notFound)
        }
    }

    func testAnEmptyBodyReplaysTheWholeQueue() async throws {
        try await TestApp.run(directory: directory) { client in
            _ = try await Self.deadLetter(client, queue: "a", type: "x")
            _ = try await Self.deadLetter(client, queue: "b", type: "y")
            let response = try await client.execute(uri: "/ojs/v1/dead-letter/retry", method: .post)
            XCTAssertEqual(try TestApp.json(response)["replayed"], 2)
        }
    }
}
