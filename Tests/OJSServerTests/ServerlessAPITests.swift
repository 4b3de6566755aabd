import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OJSCore
import OJSStore
import Synchronization
import XCTest

@testable import OJSServer

/// Time the test moves by hand, so nothing here sleeps.
final class TestClock: Sendable {
    let millis = Atomic<Int64>(1_770_892_200_000)
    func advance(by ms: Int64) { millis.add(ms, ordering: .relaxed) }
    var clock: Writer.Clock { { self.millis.load(ordering: .relaxed) } }
}

/// Serverless mode over HTTP: no ticker; fetches, job GETs and `POST /ojs/v1/admin/tick`
/// do the scheduler's work.
final class ServerlessAPITests: XCTestCase {
    var directory: URL!
    let time = TestClock()

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-serverless-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func withServerless(apiKeys: [String] = [], _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var storeConfig = StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path)
        storeConfig.serverless = true
        let store = try Store(configuration: storeConfig, clock: time.clock)
        defer { store.close() }
        try await TestApp.run(
            store: store,
            configure: {
                $0.serverless = true
                $0.apiKeys = apiKeys
            },
            body
        )
    }

    static func post(
        _ client: any TestClientProtocol,
        _ uri: String,
        _ body: String? = nil,
        headers: HTTPFields = TestApp.ojsJSON
    ) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    func testServerlessRunsNoTicker() throws {
        let store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path))
        defer { store.close() }
        var config = ServerConfiguration()
        config.serverless = true
        let logger = Logger(label: "test")
        XCTAssertFalse(
            PrimaryServer.backgroundServices(store: store, config: config, logger: logger, replication: nil).contains { $0 is SchedulerService }
        )
        config.serverless = false
        XCTAssertTrue(
            PrimaryServer.backgroundServices(store: store, config: config, logger: logger, replication: nil).contains { $0 is SchedulerService }
        )
    }

    func testDelayedJobsMoveOnlyThroughGetFetchOrTick() async throws {
        let time = self.time
        try await withServerless { client in
            let health = try TestApp.json(try await client.execute(uri: "/ojs/v1/health", method: .get))
            XCTAssertEqual(health["serverless"], true)

            let first = try TestApp.json(try await Self.post(client, "/ojs/v1/jobs", #"{"type":"a","args":[],"options":{"scheduled_at":"+PT5S"}}"#))
            let firstId = try XCTUnwrap(first["job"]?["id"]?.stringValue)
            let early = try TestApp.json(try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["default"]}"#))
            XCTAssertEqual(early["jobs"], [])

            time.advance(by: 5000)
            let got = try TestApp.json(try await client.execute(uri: "/ojs/v1/jobs/\(firstId)", method: .get))
            XCTAssertEqual(got["job"]?["state"], "available", "a GET applies the due promotion")

            let second = try TestApp.json(
                try await Self.post(client, "/ojs/v1/jobs", #"{"type":"b","args":[],"options":{"queue":"b","scheduled_at":"+PT5S"}}"#)
            )
            let secondId = try XCTUnwrap(second["job"]?["id"]?.stringValue)
            time.advance(by: 5000)
            let tick = try TestApp.json(try await Self.post(client, "/ojs/v1/admin/tick"))
            XCTAssertEqual(tick["promoted"], 1, "the second job was still waiting for someone to move it")
            XCTAssertEqual(tick["serverless"], true)
            for key in ["expired", "reclaimed", "timed_out", "cron_fired", "purged", "replication_segments_removed"] {
                XCTAssertEqual(tick[key], 0, key)
            }
            XCTAssertEqual(tick["more"], false)
            let admin = try TestApp.json(try await client.execute(uri: "/ojs/v1/admin/jobs/\(secondId)", method: .get))
            XCTAssertEqual(admin["state"], "available")
        }
    }

    func testTickFiresCronAndReclaimsLapsedReservations() async throws {
        let time = self.time
        try await withServerless { client in
            let cron = try await Self.post(
                client,
                "/ojs/v1/cron",
                #"{"name":"minutely","expression":"* * * * *","job_template":{"type":"c","args":[],"options":{"queue":"cron"}}}"#
            )
            XCTAssertEqual(cron.status, .created)
            _ = try await Self.post(client, "/ojs/v1/jobs", #"{"type":"v","args":[],"options":{"queue":"vt","visibility_timeout_ms":1000}}"#)
            let claimed = try TestApp.json(try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["vt"],"worker_id":"w"}"#))
            XCTAssertEqual(claimed["jobs"]?.arrayValue?.count, 1)

            time.advance(by: 60_000)
            let tick = try TestApp.json(try await Self.post(client, "/ojs/v1/admin/tick"))
            XCTAssertEqual(tick["cron_fired"], 1)
            XCTAssertEqual(tick["reclaimed"], 1)
            let again = try TestApp.json(try await Self.post(client, "/ojs/v1/admin/tick"))
            XCTAssertEqual(again["cron_fired"], 0, "fired once")
            let fetched = try TestApp.json(try await Self.post(client, "/ojs/v1/workers/fetch", #"{"queues":["cron","vt"],"count":5}"#))
            XCTAssertEqual(Set(fetched["jobs"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []), ["c", "v"])
        }
    }

    func testTickNeedsAnAPIKeyLikeEveryAdminEndpoint() async throws {
        try await withServerless(apiKeys: ["k1"]) { client in
            let anonymous = try await Self.post(client, "/ojs/v1/admin/tick")
            XCTAssertEqual(anonymous.status, .unauthorized)
            var headers = TestApp.ojsJSON
            headers[.authorization] = "Bearer k1"
            let authorized = try await Self.post(client, "/ojs/v1/admin/tick", headers: headers)
            XCTAssertEqual(authorized.status, .ok)
        }
    }
}
