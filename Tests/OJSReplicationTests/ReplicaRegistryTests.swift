import XCTest

@testable import OJSReplication

/// The primary's lag arithmetic per replica.
final class ReplicaRegistryTests: XCTestCase {
    func testLagInTransactionsBytesAndMilliseconds() {
        let registry = ReplicaRegistry()
        for txid in 1...10 { registry.recordTransaction(txid: UInt64(txid), commitTime: 1000 + Int64(txid) * 100, bytes: 50) }
        XCTAssertTrue(registry.streamOpened(region: "eu", after: 0, now: 1000))
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
        XCTAssertTrue(registry.streamOpened(region: "ap", after: 0, now: 1000))
        registry.report(region: "ap", .init(appliedTxid: 1, state: "streaming", generation: nil), now: 1000)
        registry.streamClosed(region: "ap", now: 1000)
        XCTAssertEqual(registry.entries(lastTxid: 1, now: 1500).first?.lagMs, 0)
        XCTAssertEqual(registry.entries(lastTxid: 1, now: 1500).first?.state, "streaming")
        let silent = registry.entries(lastTxid: 1, now: 1000 + ReplicaRegistry.silenceMs + 1).first
        XCTAssertEqual(silent?.state, "disconnected", "no stream and no report for longer than the silence bound")
        XCTAssertEqual(silent?.lagMs, ReplicaRegistry.silenceMs + 1, "while disconnected the lag is the time since last contact")
        XCTAssertTrue(registry.streamOpened(region: "ap", after: 1, now: 9000))
        XCTAssertEqual(registry.entries(lastTxid: 1, now: 9500).first?.state, "streaming", "an open stream counts as contact")
    }

    func testReportsNeedAnOpenStreamAndCreateNothing() {
        let registry = ReplicaRegistry()
        XCTAssertFalse(registry.report(region: "nobody", .init(appliedTxid: 1, state: "streaming", generation: nil), now: 1000))
        XCTAssertTrue(registry.entries(lastTxid: 1, now: 1000).isEmpty, "a report without a stream leaves no entry")
        XCTAssertTrue(registry.streamOpened(region: "eu", after: 0, now: 1000))
        XCTAssertTrue(registry.report(region: "eu", .init(appliedTxid: 1, state: "streaming", generation: nil), now: 1100))
        registry.streamClosed(region: "eu", now: 1200)
        XCTAssertFalse(registry.report(region: "eu", .init(appliedTxid: 2, state: "streaming", generation: nil), now: 1300), "closed again")
        XCTAssertEqual(registry.entries(lastTxid: 2, now: 1300).first?.appliedTxid, 1)
    }

    func testTheRegistryIsBoundedAndIdleReplicasExpire() {
        let registry = ReplicaRegistry()
        for i in 0..<ReplicaRegistry.capacity { XCTAssertTrue(registry.streamOpened(region: "r\(i)", after: 0, now: 1000)) }
        XCTAssertFalse(registry.streamOpened(region: "one-too-many", after: 0, now: 1000), "full of live replicas")
        XCTAssertTrue(registry.streamOpened(region: "r0", after: 0, now: 1000), "a known replica may open another stream")
        for i in 1..<ReplicaRegistry.capacity { registry.streamClosed(region: "r\(i)", now: 2000) }
        let later = 2000 + ReplicaRegistry.idleExpiryMs + 1
        XCTAssertTrue(registry.streamOpened(region: "newcomer", after: 0, now: later), "idle entries were forgotten")
        XCTAssertEqual(Set(registry.entries(lastTxid: 0, now: later).map(\.region)), ["r0", "newcomer"], "r0's streams are still open")
    }

    func testRegionNames() {
        for good in ["eu", "us-east-1", "ap_south.2", String(repeating: "a", count: 64)] { XCTAssertTrue(ReplicaRegistry.isValidRegion(good), good) }
        for bad in ["", "eu west", "eu/1", "é", String(repeating: "a", count: 65), "a\u{0}"] {
            XCTAssertFalse(ReplicaRegistry.isValidRegion(bad), bad)
        }
    }
}
