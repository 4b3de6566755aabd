import Foundation
import OJSCore
import XCTest

@testable import OJSStore

/// Storage faults injected below the writer: a connection that turns read-only (what a
/// filesystem remounted read-only after an error looks like to SQLite) and a database quota.
final class WriterFaultTests: StoreTestCase {
    func testReadOnlyStorageFailsWritesCleanlyAndRecovers() async throws {
        let kept = try await push(#"{"type":"before","args":[1]}"#)
        let writer = try XCTUnwrap(store.writer)
        XCTAssertNil(writer.storageFailure)

        try await writer.exclusive { db in try db.execute("PRAGMA query_only = ON") }
        do {
            try await push(#"{"type":"during","args":[]}"#)
            XCTFail("a write landed on read-only storage")
        } catch let error as StoreError {
            guard case .storage(let underlying) = error, let sqlite = underlying as? SQLiteError else {
                return XCTFail("expected a storage failure, got \(error)")
            }
            XCTAssertTrue(sqlite.isStorageFailure, "\(sqlite)")
        }
        XCTAssertNotNil(writer.storageFailure, "health would not see the failure")
        // Reads go on, and what was there is untouched.
        let read = try await store.job(id: kept.id)
        XCTAssertEqual(read?.type, "before")

        try await writer.exclusive { db in try db.execute("PRAGMA query_only = OFF") }
        try await push(#"{"type":"after","args":[]}"#)
        XCTAssertNil(writer.storageFailure, "a committed write clears the failure")
        let counts = try await store.queue("default")
        XCTAssertEqual(counts.counts.depth, 2)
    }

    func testQuotaFailsTheWholeBatchWithoutPartialWrites() async throws {
        store.close()
        var config = StoreConfiguration(path: directory.appendingPathComponent("quota.db").path)
        config.maxDatabaseBytes = 400_000
        store = try Store(configuration: config, clock: clock.function)
        let padding = String(repeating: "p", count: 3000)
        var stored = 0
        var failure: (any Error)?
        while failure == nil && stored < 1000 {
            let batch = try (0..<10).map { i in try spec(#"{"type":"fill","args":[\#(i),"\#(padding)"]}"#) }
            do {
                stored += try await store.enqueueBatch(batch).count
            } catch {
                failure = error
            }
        }
        let error = try XCTUnwrap(failure as? StoreError, "the quota never filled")
        guard case .storage(let underlying) = error else { return XCTFail("\(error)") }
        XCTAssertTrue((underlying as? SQLiteError)?.isFull == true, "\(underlying)")
        // A batch is atomic: the depth is a whole number of batches.
        let depth = try await store.queue("default").counts.depth
        XCTAssertEqual(Int(depth), stored)
        XCTAssertEqual(stored % 10, 0)
    }
}
