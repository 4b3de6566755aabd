import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OJSCore
import XCTest

/// `Idempotency-Key` on `POST /ojs/v1/jobs` and `/jobs/batch`, and on a worker's fetch, ack and
/// nack, over HTTP.
final class IdempotencyAPITests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-idem-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    static let key = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    static func post(
        _ client: any TestClientProtocol,
        _ path: String,
        _ body: String,
        key: String?,
        extra: HTTPFields = [:]
    ) async throws
        -> TestResponse
    {
        var headers = TestApp.ojsJSON
        if let key { headers[Self.key] = key }
        headers.append(contentsOf: extra)
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func testARepeatedPushReturnsTheOriginalResponse() async throws {
        try await TestApp.run(directory: directory) { client in
            let body = #"{"type":"email.send","args":["a@b.c"]}"#
            let first = try await Self.post(client, "/ojs/v1/jobs", body, key: "order-42")
            XCTAssertEqual(first.status, .created)
            XCTAssertNil(first.headers[Self.replayed])
            let id = try XCTUnwrap(try TestApp.json(first)["job"]?["id"]?.stringValue)

            // The job moves on; the replay is still the answer the first request got.
            _ = try await client.execute(
                uri: "/ojs/v1/workers/fetch",
                method: .post,
                headers: TestApp.ojsJSON,
                body: ByteBuffer(string: #"{"queues":["default"]}"#)
            )
            let again = try await Self.post(client, "/ojs/v1/jobs", body, key: "order-42")
            XCTAssertEqual(again.status, .created)
            XCTAssertEqual(again.headers[Self.replayed], "true")
            XCTAssertEqual(again.headers[.location], "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(String(buffer: again.body), String(buffer: first.body))

            let other = try await Self.post(client, "/ojs/v1/jobs", body, key: nil)
            XCTAssertNotEqual(try TestApp.json(other)["job"]?["id"]?.stringValue, id, "no key, no deduplication")
            let stats = try await client.execute(uri: "/ojs/v1/queues/default/stats", method: .get)
            XCTAssertEqual(try TestApp.json(stats)["stats"]?["depth"], 2)
        }
    }

    func testTheSameKeyWithAnotherBodyOrEndpointIs422() async throws {
        try await TestApp.run(directory: directory) { client in
            _ = try await Self.post(client, "/ojs/v1/jobs", #"{"type":"a","args":[1]}"#, key: "k")
            let cases = [
                ("/ojs/v1/jobs", #"{"type":"a","args":[2]}"#),
                ("/ojs/v1/jobs", #"{"args":[1],"type":"a"}"#),
                ("/ojs/v1/jobs/batch", #"{"jobs":[{"type":"a","args":[1]}]}"#),
            ]
            for (path, body) in cases {
                let response = try await Self.post(client, path, body, key: "k")
                XCTAssertEqual(response.status, .unprocessableContent, body)
                let error = try TestApp.json(response)["error"]
                XCTAssertEqual(error?["code"], "idempotency_key_mismatch")
                XCTAssertEqual(error?["retryable"], false)
                XCTAssertEqual(error?["details"]?["idempotency_key"], "k")
            }
            let bad = try await Self.post(client, "/ojs/v1/jobs", #"{"type":"a","args":[1]}"#, key: String(repeating: "x", count: 300))
            XCTAssertEqual(bad.status, .badRequest)
        }
    }

    func testABatchRepeatReturnsTheSameJobs() async throws {
        try await TestApp.run(directory: directory) { client in
            let body = #"{"jobs":[{"type":"a","args":[]},{"type":"b","args":[]}]}"#
            let first = try await Self.post(client, "/ojs/v1/jobs/batch", body, key: "batch-1")
            let again = try await Self.post(client, "/ojs/v1/jobs/batch", body, key: "batch-1")
            XCTAssertEqual(first.status, .created)
            XCTAssertEqual(again.status, .created)
            XCTAssertEqual(again.headers[Self.replayed], "true")
            XCTAssertEqual(String(buffer: again.body), String(buffer: first.body))
            XCTAssertEqual(try TestApp.json(first)["count"], 2)
        }
    }

    func testAnExpiredKeyIsANewRequest() async throws {
        // A window of 1 ms is over before the second request reaches the writer.
        try await TestApp.run(directory: directory, configure: { $0.idempotencyWindowMs = 1 }) { client in
            let body = #"{"type":"a","args":[]}"#
            let first = try await Self.post(client, "/ojs/v1/jobs", body, key: "short")
            var second = try await Self.post(client, "/ojs/v1/jobs", body, key: "short")
            // Both inside one millisecond is possible on a fast machine: ask until the clock moved.
            let deadline = Date().addingTimeInterval(5)
            while second.headers[Self.replayed] != nil, Date() < deadline {
                second = try await Self.post(client, "/ojs/v1/jobs", body, key: "short")
            }
            XCTAssertNil(second.headers[Self.replayed])
            XCTAssertNotEqual(try TestApp.json(second)["job"]?["id"], try TestApp.json(first)["job"]?["id"])
        }
    }

    func testConcurrentDuplicatesCreateOneJob() async throws {
        try await TestApp.run(directory: directory) { client in
            let body = #"{"type":"a","args":[],"options":{"queue":"burst"}}"#
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<24 {
                    group.addTask {
                        let r = try await Self.post(client, "/ojs/v1/jobs", body, key: "same")
                        return r.status == .created ? try TestApp.json(r)["job"]?["id"]?.stringValue : nil
                    }
                }
                var all: [String?] = []
                for try await id in group { all.append(id) }
                return all
            }
            XCTAssertEqual(ids.count, 24)
            XCTAssertEqual(Set(ids.compactMap { $0 }).count, 1)
            XCTAssertFalse(ids.contains(nil), "every duplicate got the 201")
            let stats = try await client.execute(uri: "/ojs/v1/queues/burst/stats", method: .get)
            XCTAssertEqual(try TestApp.json(stats)["stats"]?["depth"], 1)
        }
    }

    func testTraceContextHeadersReachTheJobWithTracingOff() async throws {
        try await TestApp.run(directory: directory) { client in
            let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let headers: HTTPFields = [HTTPField.Name("traceparent")!: parent, HTTPField.Name("tracestate")!: "v=1"]
            let plain = try await Self.post(client, "/ojs/v1/jobs", #"{"type":"a","args":[]}"#, key: nil, extra: headers)
            XCTAssertEqual(try TestApp.json(plain)["job"]?["meta"], ["traceparent": .string(parent), "tracestate": "v=1"])
            let own = "00-11111111111111111111111111111111-2222222222222222-01"
            let kept = try await Self.post(
                client,
                "/ojs/v1/jobs",
                #"{"type":"a","args":[],"meta":{"traceparent":"\#(own)"}}"#,
                key: nil,
                extra: headers
            )
            XCTAssertEqual(try TestApp.json(kept)["job"]?["meta"], ["traceparent": .string(own)], "the client's meta wins, tracestate not mixed in")
            let none = try await Self.post(client, "/ojs/v1/jobs", #"{"type":"a","args":[]}"#, key: nil)
            XCTAssertEqual(try TestApp.json(none)["job"]?["meta"], .object(JSONObject()))
        }
    }

    func testTheManifestAdvertisesBoth() async throws {
        try await TestApp.run(directory: directory) { client in
            let manifest = try TestApp.json(try await client.execute(uri: "/ojs/manifest", method: .get))
            let extensions = manifest["extensions"]?.arrayValue?.compactMap(\.stringValue) ?? []
            XCTAssertTrue(extensions.contains("idempotency"))
            XCTAssertTrue(extensions.contains("tracing"))
            XCTAssertEqual(manifest["capabilities"]?["idempotency_keys"], true)
            XCTAssertEqual(manifest["capabilities"]?["trace_export"], false)
        }
    }

    func testAKeyedFetchAckAndNackReplayTheirFirstAnswerAndActOnce() async throws {
        try await TestApp.run(directory: directory) { client in
            let a = try TestApp.json(try await Self.post(client, "/ojs/v1/jobs", #"{"type":"w","args":[1],"options":{"queue":"wq"}}"#, key: nil))
            let b = try TestApp.json(try await Self.post(client, "/ojs/v1/jobs", #"{"type":"w","args":[2],"options":{"queue":"wq"}}"#, key: nil))
            let first = try XCTUnwrap(a["job"]?["id"]?.stringValue)
            let second = try XCTUnwrap(b["job"]?["id"]?.stringValue)
            let fetchBody = #"{"queues":["wq"],"count":1}"#

            let fetched = try await Self.post(client, "/ojs/v1/workers/fetch", fetchBody, key: "request-f1")
            XCTAssertEqual(fetched.status, .ok)
            XCTAssertNil(fetched.headers[Self.replayed])
            XCTAssertEqual(try TestApp.json(fetched)["jobs"]?.arrayValue?.first?["id"]?.stringValue, first)
            let refetched = try await Self.post(client, "/ojs/v1/workers/fetch", fetchBody, key: "request-f1")
            XCTAssertEqual(refetched.headers[Self.replayed], "true")
            XCTAssertEqual(String(buffer: refetched.body), String(buffer: fetched.body), "the same claim, not the next job")
            let next = try await Self.post(client, "/ojs/v1/workers/fetch", fetchBody, key: "request-f2")
            XCTAssertEqual(try TestApp.json(next)["jobs"]?.arrayValue?.first?["id"]?.stringValue, second)

            let ackBody = #"{"job_id":"\#(first)","result":{"ok":true}}"#
            let acked = try await Self.post(client, "/ojs/v1/workers/ack", ackBody, key: "request-a1")
            XCTAssertEqual(acked.status, .ok)
            let reacked = try await Self.post(client, "/ojs/v1/workers/ack", ackBody, key: "request-a1")
            XCTAssertEqual(reacked.status, .ok, "the first answer, not 409 for a completed job")
            XCTAssertEqual(reacked.headers[Self.replayed], "true")
            let unkeyed = try await Self.post(client, "/ojs/v1/workers/ack", ackBody, key: nil)
            XCTAssertEqual(unkeyed.status, .conflict, "without the key the job is already completed")

            let nackBody = #"{"job_id":"\#(second)","error":{"code":"x","message":"no"}}"#
            let nacked = try await Self.post(client, "/ojs/v1/workers/nack", nackBody, key: "request-n1")
            XCTAssertEqual(nacked.status, .ok)
            let renacked = try await Self.post(client, "/ojs/v1/workers/nack", nackBody, key: "request-n1")
            XCTAssertEqual(String(buffer: renacked.body), String(buffer: nacked.body))
            let job = try TestApp.json(try await client.execute(uri: "/ojs/v1/jobs/\(second)", method: .get))
            XCTAssertEqual(job["job"]?["attempt"], 1, "one failed attempt, not two")
            XCTAssertEqual(job["job"]?["errors"]?.arrayValue?.count, 1)

            let mismatch = try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["other"]}"#, key: "request-f1")
            XCTAssertEqual(mismatch.status, .unprocessableContent)
        }
    }

    func testAFetchThatClaimedNothingIsNotRecorded() async throws {
        try await TestApp.run(directory: directory) { client in
            let empty = try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["later"]}"#, key: "request-e1")
            XCTAssertEqual(try TestApp.json(empty)["jobs"]?.arrayValue?.count, 0)
            _ = try await Self.post(client, "/ojs/v1/jobs", #"{"type":"w","args":[],"options":{"queue":"later"}}"#, key: nil)
            let again = try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["later"]}"#, key: "request-e1")
            XCTAssertNil(again.headers[Self.replayed])
            XCTAssertEqual(try TestApp.json(again)["jobs"]?.arrayValue?.count, 1, "the repeat fetched again")
        }
    }

    /// The store reports a full queue as typed facts; the server alone renders them as fields.
    func testAFullQueueIs429WithRetryAfterAndItsBound() async throws {
        try await TestApp.run(directory: directory) { client in
            let config = try await client.execute(
                uri: "/ojs/v1/admin/queues/tight/config",
                method: .put,
                headers: TestApp.ojsJSON,
                body: ByteBuffer(string: #"{"backpressure":{"max_depth":1,"strategy":"reject"}}"#)
            )
            XCTAssertEqual(config.status, .ok)
            let push = #"{"type":"w","args":[],"options":{"queue":"tight"}}"#
            let accepted = try await Self.post(client, "/ojs/v1/jobs", push, key: nil)
            XCTAssertEqual(accepted.status, .created)
            XCTAssertEqual(accepted.headers[HTTPField.Name("X-OJS-Queue-Pressure")!], "1.00")
            let refused = try await Self.post(client, "/ojs/v1/jobs", push, key: nil)
            XCTAssertEqual(refused.status, .tooManyRequests)
            XCTAssertEqual(refused.headers[HTTPField.Name("Retry-After")!], "1")
            XCTAssertEqual(refused.headers[HTTPField.Name("X-OJS-Queue-Depth")!], "1")
            XCTAssertEqual(refused.headers[HTTPField.Name("X-OJS-Queue-Bound")!], "1")
            XCTAssertEqual(try TestApp.json(refused)["error"]?["code"], "QUEUE_FULL")
        }
    }
}
