import XCTest

@testable import OJSReplication

/// The primary's lag arithmetic per replica.
final class ReplicaRegistryTests: XCTestCase {
    func testLagInTransactionsBytesAndMilliseconds() {
        let registry = ReplicaRegistry()
        for txid in 1...10 { registry.recordTransaction(txid: UInt64(txid), commitTime: 1000 + Int64(txid) * 100, bytes: 50) }
        registry.streamOpened(region: "eu", after: 0, now: 1000)
        registry.report(region: "eu", .init(appliedTxid: 7, state: "streaming", generation: nil), now: 2100)
        let entry = registry.entries(lastTxid: 10, now: 2500).first
        XCTAssertEqual(entry?.lagTransactions, 3)
        XCTAssertEqual(entry?.lagBytes, 150)
        XCTAssertEqual(entry?.lagMs, 2500 - 1800, "time since the commit of the oldest unapplied transaction (txid 8)")
        XCTAssertEqual(entry?.state, "catching_up")
    }

    func testCaughtUpIsZeroAndSilenceIsDisconnected() {
        let registry = ReplicaRegistry()
        registry.recordTransaction(txid: 1, commitTime: 1000, bytes: 10)
        registry.report(region: "ap", .init(appliedTxid: 1, state: "streaming", generation: nil), now: 1000)
        XCTAssertEqual(registry.entries(lastTxid: 1, now: 1500).first?.lagMs, 0)
        XCTAssertEqual(registry.entries(lastTxid: 1, now: 1500).first?.state, "streaming")
        let silent = registry.entries(lastTxid: 1, now: 1000 + ReplicaRegistry.silenceMs + 1).first
        XCTAssertEqual(silent?.state, "disconnected", "no stream and no report for longer than the silence bound")
        XCTAssertEqual(silent?.lagMs, ReplicaRegistry.silenceMs + 1, "while disconnected the lag is the time since last contact")
        registry.streamOpened(region: "ap", after: 1, now: 9000)
        XCTAssertEqual(registry.entries(lastTxid: 1, now: 9500).first?.state, "streaming", "an open stream counts as contact")
    }
}
