import Foundation
import OJSCore
import XCTest

@testable import OJSStore

/// The FIFO position's high-water mark is stored with each commit (`replication_position.last_seq`)
/// instead of found by scanning `jobs` at open, so FIFO order must still hold across a restart,
/// here with the clock stepped back so only the stored mark can keep it.
final class SequenceMarkTests: StoreTestCase {
    private var path: String { directory.appendingPathComponent("ojs.db").path }

    private func reopen(clockBackMs: Int64) throws {
        store?.close()
        store = nil
        clock.advance(-clockBackMs)
        store = try Store(configuration: StoreConfiguration(path: path), clock: clock.function)
    }

    private func fetchedIds(_ count: Int) async throws -> [String] {
        try await store.fetch(FetchRequest(queues: ["fifo"], count: count)).map(\.id)
    }

    private func mark() async throws -> (stored: Int64, highest: Int64) {
        try await store.read { db in
            (
                try db.scalar("SELECT last_seq FROM replication_position WHERE id = 1"),
                try db.scalar("SELECT coalesce(max(seq), 0) FROM jobs")
            )
        }
    }

    func testEveryCommitStoresTheHighestPosition() async throws {
        try await push(#"{"type":"t","queue":"fifo","args":[1]}"#)
        try await push(#"{"type":"t","queue":"fifo","args":[2]}"#)
        let (stored, highest) = try await mark()
        XCTAssertGreaterThan(highest, 0)
        XCTAssertEqual(stored, highest)
    }

    func testFIFOHoldsAcrossARestartWhenTheClockSteppedBack() async throws {
        let first = try await push(#"{"type":"t","queue":"fifo","args":[1]}"#)
        try reopen(clockBackMs: 60_000)
        let second = try await push(#"{"type":"t","queue":"fifo","args":[2]}"#)
        let order = try await fetchedIds(2)
        XCTAssertEqual(order, [first.id, second.id])
    }

    /// A database from before migration 0008 gets its mark from the jobs it holds.
    func testUpgradeTakesTheMarkFromTheJobs() async throws {
        let first = try await push(#"{"type":"t","queue":"fifo","args":[1]}"#)
        store.close()
        store = nil
        do {
            let db = try Connection(path: path)
            try db.execute("ALTER TABLE replication_position DROP COLUMN last_seq")
            try db.execute("DELETE FROM d1_migrations WHERE name = '0008_sequence_mark.sql'")
        }
        try reopen(clockBackMs: 60_000)
        let (stored, highest) = try await mark()
        XCTAssertGreaterThan(highest, 0)
        XCTAssertEqual(stored, highest)
        let second = try await push(#"{"type":"t","queue":"fifo","args":[2]}"#)
        let order = try await fetchedIds(2)
        XCTAssertEqual(order, [first.id, second.id])
    }
}
