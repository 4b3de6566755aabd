import XCTest

@testable import OJSStore

/// The writer's queue must not keep what it handed out: each item's closures hold a whole
/// request (a batch push's parsed jobs and results).
final class WorkQueueTests: XCTestCase {
    final class Payload: Sendable {}

    func testTakenItemsAreReleased() {
        let queue = WorkQueue<Payload>()
        weak var first: Payload?
        weak var second: Payload?
        do {
            let a = Payload()
            let b = Payload()
            first = a
            second = b
            queue.push(a)
            queue.push(b)
            let batch = queue.takeBatch(max: 1)
            XCTAssertEqual(batch?.count, 1)
        }
        XCTAssertNil(first, "an item taken by the consumer is still referenced by the queue")
        XCTAssertNotNil(second, "an item not yet taken must stay queued")
        XCTAssertEqual(queue.takeBatch(max: 10)?.count, 1)
        XCTAssertNil(second)
    }

    func testBatchesKeepOrderAcrossPartialTakes() {
        let queue = WorkQueue<Int>()
        for i in 0..<10 { queue.push(i) }
        XCTAssertEqual(queue.takeBatch(max: 4), [0, 1, 2, 3])
        queue.push(10)
        XCTAssertEqual(queue.takeBatch(max: 100), [4, 5, 6, 7, 8, 9, 10])
        queue.close()
        XCTAssertNil(queue.takeBatch(max: 1))
    }
}
