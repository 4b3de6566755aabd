import OJSCore
import Synchronization
import XCTest

@testable import OJSStore

final class ClaimTests: StoreTestCase {
    /// Many workers fetching concurrently over many jobs: each job is handed out exactly once.
    func testConcurrentFetchersClaimEveryJobExactlyOnce() async throws {
        let total = 2000
        var specs: [JobSpec] = []
        for i in 0..<total { specs.append(try spec(#"{"type":"work.item","args":[\#(i)],"options":{"queue":"q"}}"#)) }
        for chunk in stride(from: 0, to: total, by: 500) {
            _ = try await store.enqueueBatch(Array(specs[chunk..<min(total, chunk + 500)]))
        }
        let store = self.store!
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<24 {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let jobs = try await store.fetch(FetchRequest(queues: ["q"], count: 1 + worker % 7, workerId: "w\(worker)"))
                        if jobs.isEmpty { return mine }
                        mine += jobs.map(\.id)
                    }
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
        XCTAssertEqual(claimed.count, total, "every job delivered")
        XCTAssertEqual(Set(claimed).count, total, "no job delivered twice")
        let info = try await store.queue("q")
        XCTAssertEqual(info.counts[.active], Int64(total))
        XCTAssertEqual(info.counts[.available], 0)
    }

    func testClaimOrderIsPriorityThenFIFOAndQueueOrderDominates() async throws {
        let low = try await push(#"{"type":"t","args":[],"options":{"queue":"b","priority":-10}}"#)
        let first = try await push(#"{"type":"t","args":[],"options":{"queue":"b"}}"#)
        let second = try await push(#"{"type":"t","args":[],"options":{"queue":"b"}}"#)
        let high = try await push(#"{"type":"t","args":[],"options":{"queue":"b","priority":10}}"#)
        let otherQueue = try await push(#"{"type":"t","args":[],"options":{"queue":"a","priority":-50}}"#)
        let jobs = try await store.fetch(FetchRequest(queues: ["a", "b"], count: 10))
        XCTAssertEqual(jobs.map(\.id), [otherQueue.id, high.id, first.id, second.id, low.id])
        XCTAssertTrue(jobs.allSatisfy { $0.state == .active && $0.attempt == 1 && $0.startedAt != nil })
    }

    func testPausedQueueIsSkippedUntilResumed() async throws {
        let job = try await push(#"{"type":"t","args":[],"options":{"queue":"p"}}"#)
        _ = try await store.setPaused("p", paused: true)
        let none = try await store.fetch(FetchRequest(queues: ["p"], count: 1))
        XCTAssertTrue(none.isEmpty)
        _ = try await store.setPaused("p", paused: false)
        let some = try await store.fetch(FetchRequest(queues: ["p"], count: 1))
        XCTAssertEqual(some.map(\.id), [job.id])
    }
}

final class CheckpointTests: StoreTestCase {
    /// With `wal_autocheckpoint=0`, only the writer's own checkpoints keep the WAL bounded.
    func testWALStaysBoundedUnderSustainedWrites() async throws {
        let store = self.store!
        let spec = try self.spec(#"{"type":"wal.test","args":["\#(String(repeating: "x", count: 1000))"]}"#)
        for _ in 0..<60 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 { group.addTask { _ = try await store.enqueue(spec) } }
                try await group.waitForAll()
            }
        }
        let wal = directory.appendingPathComponent("ojs.db-wal").path
        let size = (try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        // 3000 jobs with 1 KB args wrote far more than this through the WAL.
        XCTAssertLessThan(size, 16 << 20, "WAL is \(size) bytes")
        let db = (try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("ojs.db").path)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(db, 3 << 20, "the data reached the database file through checkpoints")
    }
}
