import Foundation
import OJSCore
import Synchronization
import XCTest

@testable import OJSStore

/// Passes over many rows run in chunks, each chunk its own writer transaction, so other
/// requests' batches commit between chunks; a group commit is bounded by bytes; the writer
/// reports its queue and whether it is stuck.
final class BoundedWriterTests: StoreTestCase {
    func reopen(_ name: String, _ configure: (inout StoreConfiguration) -> Void) throws {
        store.close()
        var config = StoreConfiguration(path: directory.appendingPathComponent(name).path)
        configure(&config)
        store = try Store(configuration: config, clock: clock.function)
    }

    var writer: Writer { store.writer! }

    /// Pushes, fetches and acks `n` jobs in queue `q`.
    func completeJobs(_ n: Int) async throws {
        for _ in 0..<n {
            let job = try await push(#"{"type":"t","args":[],"options":{"queue":"q"}}"#)
            _ = try await store.fetch(FetchRequest(queues: ["q"]))
            _ = try await store.ack(AckRequest(jobId: job.id))
        }
    }
    var transactions: Int { writer.currentStats.batches }

    func testPromotionOfManyDueJobsCommitsOneTransactionPerChunk() async throws {
        try reopen("promote.db") { $0.maintenanceChunkRows = 10 }
        let jobs = (0..<35).map { _ in #"{"type":"t","args":[],"options":{"queue":"due","scheduled_at":"+PT1S"}}"# }
        _ = try await store.enqueueBatch(try jobs.map { try spec($0) })
        clock.advance(2000)
        let before = transactions
        let report = try await store.tick()
        XCTAssertEqual(report.promoted, 35)
        // ceil(35 / 10) = 4 promotion chunks, then one for cron and one for the purge.
        XCTAssertEqual(report.transactions, 4 + 1 + 1)
        XCTAssertEqual(transactions - before, report.transactions, "each chunk committed on its own")
        XCTAssertFalse(report.more)
    }

    /// The writer is held while the tick's first chunk and a push queue up: the push commits
    /// as soon as one chunk has, long before the promotion is done.
    func testAPushCommitsBetweenPromotionChunks() async throws {
        try reopen("interleave.db") { $0.maintenanceChunkRows = 10 }
        let jobs = (0..<50).map { _ in #"{"type":"t","args":[],"options":{"queue":"due","scheduled_at":"+PT1S"}}"# }
        _ = try await store.enqueueBatch(try jobs.map { try spec($0) })
        clock.advance(2000)
        // For each committed batch: (jobs available in `due`, jobs in `other`).
        let seen = CommitLog()
        writer.addObserver { db, _, _ in
            let available = (try? db.scalar("SELECT count(*) FROM jobs WHERE queue = 'due' AND state = 'available'")) ?? -1
            let other = (try? db.scalar("SELECT count(*) FROM jobs WHERE queue = 'other'")) ?? -1
            seen.append((available, other))
        }
        let release = DispatchSemaphore(value: 0)
        let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        let writer = self.writer
        let blocker = Task {
            try await writer.exclusive { _ in
                enteredContinuation.yield()
                release.wait()
            }
        }
        for await _ in entered { break }
        let store = self.store!
        let tick = Task { try await store.tick() }
        while writer.health.queueDepth < 1 { await Task.yield() }
        let pushed = try spec(#"{"type":"t","args":[],"options":{"queue":"other"}}"#)
        let push = Task { try await store.enqueue(pushed) }
        while writer.health.queueDepth < 2 { await Task.yield() }
        XCTAssertTrue(writer.health.isStalled(afterMs: 0), "work waits and the writer finishes nothing")
        XCTAssertFalse(writer.health.isStalled(afterMs: 60_000), "but not for a minute")
        release.signal()
        try await blocker.value
        _ = try await push.value
        let report = try await tick.value
        XCTAssertEqual(report.promoted, 50)
        let batches = seen.entries
        guard let pushBatch = batches.firstIndex(where: { $0.1 == 1 }) else { return XCTFail("the push never committed") }
        XCTAssertLessThanOrEqual(batches[pushBatch].0, 10, "the push committed after at most one promotion chunk")
        XCTAssertEqual(batches.last?.0, 50)
        // The last batch's callers are answered just before the writer marks itself idle.
        while writer.health.busy { await Task.yield() }
        XCTAssertFalse(writer.health.isStalled(afterMs: 0), "nothing waits any more")
        XCTAssertEqual(writer.health.queueDepth, 0)
    }

    func testRetentionLoopsUntilDoneOneBudgetedTransactionAtATime() async throws {
        try reopen("retention.db") {
            $0.purgeBatchSize = 2
            $0.purgeTransactionBudgetMs = 0  // one round of statements per transaction
            $0.completedRetentionMs = 60_000
        }
        try await completeJobs(5)
        clock.advance(2 * 3_600_000)
        let before = transactions
        let report = try await store.tick()
        XCTAssertEqual(report.purge.completed, 5, "one tick purges the whole backlog")
        // Enqueued, started and completed for each job, but the newest, which stays as the
        // event log's high-water mark (migration 0009).
        XCTAssertEqual(report.purge.events, 14)
        XCTAssertFalse(report.purge.more)
        // Events are the longest run: 14 rows, 2 per round, one round per transaction, and a
        // last round that finds nothing more.
        XCTAssertEqual(report.transactions, 1 + 1 + 8)
        XCTAssertEqual(transactions - before, report.transactions)
    }

    func testWithinItsBudgetOnePurgeTransactionDeletesManyBatches() async throws {
        try reopen("budget.db") {
            $0.purgeBatchSize = 2
            $0.purgeTransactionBudgetMs = 60_000
            $0.completedRetentionMs = 60_000
        }
        try await completeJobs(5)
        clock.advance(2 * 3_600_000)
        let report = try await store.tick()
        XCTAssertEqual(report.purge.completed, 5)
        XCTAssertEqual(report.transactions, 1 + 1 + 1, "the purge looped inside one transaction")
    }

    func testBulkRetryCommitsOneTransactionPerChunk() async throws {
        try reopen("bulk.db") { $0.maintenanceChunkRows = 3 }
        for _ in 0..<7 {
            let job = try await push(
                #"{"type":"t","args":[],"options":{"queue":"dl","retry":{"max_attempts":1,"on_exhaustion":"dead_letter"}}}"#
            )
            _ = try await store.fetch(FetchRequest(queues: ["dl"]))
            _ = try await store.nack(NackRequest(jobId: job.id, failure: JobFailure(code: "boom", message: "failed")))
        }
        let before = transactions
        let result = try await store.bulkRetry(queue: "dl", type: nil, since: nil, onlyDeadLetter: true)
        XCTAssertEqual(result.matched, 7)
        XCTAssertEqual(result.succeeded, 7)
        XCTAssertEqual(transactions - before, 3, "chunks of 3, 3 and 1")
        let available = try await store.fetch(FetchRequest(queues: ["dl"], count: 10))
        XCTAssertEqual(available.count, 7)
    }

    func testPushDeliveryPurgeCommitsOneTransactionPerBatch() async throws {
        try reopen("deliveries.db") { $0.purgeBatchSize = 2 }
        let old = clock.now
        try await store.write { ctx in
            for i in 0..<5 {
                try ctx.db.run(
                    "INSERT INTO push_deliveries (id, job_id, queue, attempt, started_at, settled_at) VALUES (?, 'j', 'q', 1, ?, ?)",
                    [.text("d\(i)"), .int(old), .int(old)]
                )
            }
            try ctx.db.run("INSERT INTO push_deliveries (id, job_id, queue, attempt, started_at) VALUES ('open', 'j', 'q', 1, ?)", [.int(old)])
        }
        clock.advance(store.configuration.eventRetentionMs + 1)
        let before = transactions
        let purged = try await store.purgePushDeliveries()
        XCTAssertEqual(purged, 5)
        XCTAssertEqual(transactions - before, 3, "2, 2 and 1")
        let left = try await store.read { db in try db.scalar("SELECT count(*) FROM push_deliveries") }
        XCTAssertEqual(left, 1, "an unsettled delivery stays")
    }

    func testIdleWorkersQueuesAndRateLimitsExpire() async throws {
        try reopen("idle.db") {
            $0.idleExpiryMs = 3_600_000
            $0.completedRetentionMs = 60_000
        }
        func cycle(_ queue: String, worker: String, rateKey: String? = nil) async throws {
            let limit = rateKey.map { #","rate_limit":{"key":"\#($0)","concurrency":2}"# } ?? ""
            let job = try await push(#"{"type":"t","args":[],"options":{"queue":"\#(queue)"\#(limit)}}"#)
            _ = try await store.fetch(FetchRequest(queues: [queue], workerId: worker))
            _ = try await store.ack(AckRequest(jobId: job.id))
        }
        try await cycle("gone", worker: "w-old", rateKey: "k-old")
        try await cycle("reused", worker: "w-old")
        _ = try await store.setPaused("paused", paused: true)
        clock.advance(2 * 60_000)
        var report = try await store.tick()
        XCTAssertEqual(report.purge.completed, 2, "the queues are empty now, and marked idle")
        XCTAssertEqual(report.purge.queues + report.purge.workers + report.purge.rateLimits, 0, "nothing is idle for an hour yet")
        clock.advance(30 * 60_000)
        try await cycle("reused", worker: "w-new")  // in use again: its idle mark is cleared
        clock.advance(31 * 60_000)
        report = try await store.tick()
        XCTAssertEqual(report.purge.workers, 1, "w-old was last seen an hour ago")
        XCTAssertEqual(report.purge.queues, 1, "only `gone`: `reused` was in use 31 minutes ago, `paused` is an operator's setting")
        XCTAssertEqual(report.purge.rateLimits, 1)
        let (queues, _) = try await store.queues()
        XCTAssertEqual(queues.map(\.name).sorted(), ["paused", "reused"])
        let workers = try await store.workers(limit: 10, offset: 0)
        XCTAssertEqual(workers.items.map(\.id), ["w-new"])
        let partition = try await store.rateLimit(key: "k-old")
        XCTAssertNil(partition)
    }

    func testIdleExpiryOffKeepsEverything() async throws {
        try reopen("forever.db") {
            $0.idleExpiryMs = nil
            $0.completedRetentionMs = 60_000
        }
        let job = try await push(#"{"type":"t","args":[],"options":{"queue":"q"}}"#)
        _ = try await store.fetch(FetchRequest(queues: ["q"], workerId: "w"))
        _ = try await store.ack(AckRequest(jobId: job.id))
        clock.advance(365 * 24 * 3_600_000)
        let report = try await store.tick()
        XCTAssertEqual(report.purge.workers + report.purge.queues + report.purge.rateLimits, 0)
    }

    func testCompletedEventDoesNotCopyTheResult() async throws {
        let job = try await push(#"{"type":"t","args":[],"options":{"queue":"q"}}"#)
        _ = try await store.fetch(FetchRequest(queues: ["q"]))
        _ = try await store.ack(AckRequest(jobId: job.id, result: .string(String(repeating: "r", count: 10_000))))
        var query = EventQuery()
        query.types = ["job.completed"]
        let page = try await store.events(query)
        XCTAssertEqual(page.events.count, 1)
        XCTAssertFalse(page.events[0].contains("rrrr"), "the result lives on the job, not in its event")
        XCTAssertTrue(page.events[0].contains("duration_ms"))
    }

    /// One long read transaction keeps checkpoints from finishing and the WAL grows; once the
    /// reader ends, the next checkpoint (a TRUNCATE past the threshold) shrinks it again.
    func testWALShrinksBackAfterALongReaderEnds() async throws {
        let reader = try Connection(path: store.configuration.path, options: .init(readOnly: true))
        try reader.execute("BEGIN")
        _ = try reader.scalar("SELECT count(*) FROM jobs")
        let args = String(repeating: "x", count: 4000)
        for _ in 0..<5 {
            let batch = try (0..<1000).map { _ in try spec(#"{"type":"t","args":["\#(args)"],"options":{"queue":"big"}}"#) }
            _ = try await store.enqueueBatch(batch)
        }
        let grown = writer.health
        XCTAssertGreaterThan(grown.walBytes, Int64(Writer.truncateFrames) * 4096, "the reader held the WAL")
        XCTAssertGreaterThan(grown.checkpoints.busy, 0)
        try reader.execute("COMMIT")
        await writer.checkpointIfIdleWALIsLarge()
        let shrunk = writer.health
        XCTAssertLessThanOrEqual(shrunk.walBytes, Int64(Writer.journalSizeLimitBytes), "the WAL shrank back once the reader left")
        XCTAssertGreaterThan(shrunk.checkpoints.ok, grown.checkpoints.ok)
    }
}

/// What a commit observer saw, batch by batch (written on the writer thread).
final class CommitLog: Sendable {
    private let state = Mutex<[(Int64, Int64)]>([])
    func append(_ entry: (Int64, Int64)) { state.withLock { $0.append(entry) } }
    var entries: [(Int64, Int64)] { state.withLock { $0 } }
}

final class WorkQueueByteBoundTests: XCTestCase {
    func testABatchStopsAtItsByteBoundButAlwaysTakesOneItem() {
        let queue = WorkQueue<Int>()
        queue.push(0, bytes: 150)
        queue.push(1, bytes: 60)
        queue.push(2, bytes: 30)
        queue.push(3, bytes: 20)
        XCTAssertEqual(queue.takeBatch(max: 10, maxBytes: 100), [0], "one item over the bound goes alone")
        XCTAssertEqual(queue.takeBatch(max: 10, maxBytes: 100), [1, 2], "60 + 30 fit, + 20 would not")
        XCTAssertEqual(queue.depth, 1)
        XCTAssertEqual(queue.takeBatch(max: 10, maxBytes: 100), [3])
        XCTAssertNil(queue.oldestQueuedAt)
    }
}
