import XCTest

@testable import OJSStore

final class BufferedSystemRandomTests: XCTestCase {
    /// Across several refills every draw is fresh: no repeated or zero words, and both halves
    /// of the bit range appear (a stuck or never-refilled buffer fails all three).
    func testDrawsStayDistinctAcrossRefills() {
        var rng = BufferedSystemRandom()
        let draws = (0..<5_000).map { _ in rng.next() }
        XCTAssertEqual(Set(draws).count, draws.count)
        XCTAssertFalse(draws.contains(0))
        XCTAssertTrue(draws.contains { $0 >> 63 == 1 } && draws.contains { $0 >> 63 == 0 })
    }

    func testTwoGeneratorsDoNotShareAStream() {
        var a = BufferedSystemRandom()
        var b = BufferedSystemRandom()
        let first = (0..<64).map { _ in a.next() }
        let second = (0..<64).map { _ in b.next() }
        XCTAssertTrue(Set(first).isDisjoint(with: second))
    }
}
