import Foundation
import Logging
import OJSCore
import OJSStore
import XCTest

@testable import OJSReplication

/// A commit that changes no row still writes WAL frames (clearing an empty table rewrites its
/// root page) but gets no txid; capture folds those frames into the next transaction instead
/// of failing. Found by the conformance suite, whose resets come two in a row: every later
/// capture failed and health turned 503.
final class UncountedCommitCaptureTests: XCTestCase {
    func testCommitsWithoutATxidAreFoldedIntoTheNextCapturedTransaction() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-uncounted-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path))
        defer { store.close() }
        var logger = Logger(label: "capture")
        logger.logLevel = .critical
        let source = try await ReplicationSource.attach(to: store, directory: directory.appendingPathComponent("replication"), logger: logger)
        let generation = source.log.generation
        let before = source.log.lastTxid
        try await store.reset()
        try await store.reset()
        let spec = try JobSpec.parse(try JSONParser.parse(#"{"type":"after.reset","args":[]}"#), now: store.clock())
        _ = try await store.enqueue(spec)
        try await store.reset()
        _ = try await store.enqueue(spec)
        XCTAssertEqual(source.stats.captureFailures, 0, "\(source.stats.lastError ?? "")")
        XCTAssertNil(source.stats.lastError)
        XCTAssertEqual(source.log.generation, generation, "the history did not restart")
        XCTAssertGreaterThan(source.log.lastTxid, before)
        XCTAssertEqual(Int64(source.log.lastTxid), store.writer?.position.txid, "every txid is in the log")
    }
}
