import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OJSCore
import OJSServer
import OJSStore
import XCTest

/// The primary's health turns degraded (503) while the single writer is stuck with work
/// waiting, and `/metrics` shows the writer's queue and the WAL.
final class WriterHealthAPITests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-writer-health-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testHealthIsDegradedWhileTheWriterIsStuckWithWorkWaiting() async throws {
        let store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path))
        defer { store.close() }
        guard let writer = store.writer else { return XCTFail("a primary store has a writer") }
        // A stall threshold of 0: stuck as soon as work waits and no batch finishes.
        try await TestApp.run(store: store, configure: { $0.writerStallMs = 0 }) { client in
            var response = try await client.execute(uri: "/ojs/v1/health", method: .get)
            XCTAssertEqual(response.status, .ok, "idle is not stuck")
            var body = try TestApp.json(response)
            XCTAssertEqual(body["writer"]?["queue_depth"]?.intValue, 0)

            let release = DispatchSemaphore(value: 0)
            let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
            let blocker = Task {
                try await writer.exclusive { _ in
                    enteredContinuation.yield()
                    release.wait()
                }
            }
            for await _ in entered { break }
            let waiting = Task { try await store.setPaused("q", paused: true) }
            while writer.health.queueDepth < 1 { await Task.yield() }

            response = try await client.execute(uri: "/ojs/v1/health", method: .get)
            XCTAssertEqual(response.status, .serviceUnavailable)
            body = try TestApp.json(response)
            XCTAssertEqual(body["status"]?.stringValue, "degraded")
            XCTAssertEqual(body["writer"]?["queue_depth"]?.intValue, 1)
            XCTAssertTrue(body["backend"]?["error"]?.stringValue?.contains("writer") == true)

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            XCTAssertTrue(metrics.contains("ojs_writer_queue_depth 1"), metrics)
            XCTAssertTrue(metrics.contains("ojs_writer_oldest_waiting_seconds"))
            XCTAssertTrue(metrics.contains("ojs_wal_bytes"))

            release.signal()
            try await blocker.value
            _ = try await waiting.value
            // The last batch's callers are answered just before the writer marks itself idle.
            while writer.health.busy { await Task.yield() }
            response = try await client.execute(uri: "/ojs/v1/health", method: .get)
            XCTAssertEqual(response.status, .ok, "the writer moved on")
        }
    }
}
