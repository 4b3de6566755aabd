import XCTest

@testable import OJSReplication

final class SyncQuorumTests: XCTestCase {
    func testTheQuorumIsTheNthHighestAcknowledgementAmongConnectedReplicas() {
        let quorum = SyncQuorum(required: 2)
        quorum.streamOpened(region: "eu", after: 5)
        XCTAssertNil(quorum.snapshot.quorumTxid, "one replica cannot make a quorum of two")
        quorum.streamOpened(region: "ap", after: 3)
        XCTAssertEqual(quorum.snapshot.quorumTxid, 3)
        XCTAssertTrue(quorum.acknowledge(region: "ap", durableTxid: 9))
        XCTAssertEqual(quorum.snapshot.quorumTxid, 5, "the second-highest of 9 and 5")
        XCTAssertTrue(quorum.acknowledge(region: "ap", durableTxid: 4), "an older acknowledgement is accepted")
        XCTAssertEqual(quorum.snapshot.quorumTxid, 5, "but never lowers a replica's position")
        // A second stream from one region is still one replica.
        quorum.streamOpened(region: "eu", after: 5)
        XCTAssertEqual(quorum.snapshot.connected, 2)
        quorum.streamClosed(region: "eu")
        XCTAssertEqual(quorum.snapshot.quorumTxid, 5, "eu still has a stream")
        quorum.streamClosed(region: "eu")
        XCTAssertNil(quorum.snapshot.quorumTxid, "with eu gone only one replica is left")
        XCTAssertFalse(quorum.acknowledge(region: "eu", durableTxid: 20), "no stream, no acknowledgement")
        XCTAssertEqual(quorum.snapshot.connected, 1)
    }

    func testAWaiterIsResumedByTheAcknowledgementThatSatisfiesIt() async {
        let quorum = SyncQuorum(required: 1)
        quorum.streamOpened(region: "eu", after: 1)
        let satisfiedAtOnce = await quorum.wait(for: 1, timeout: .seconds(60))
        XCTAssertTrue(satisfiedAtOnce)
        async let waited = quorum.wait(for: 3, timeout: .seconds(60))
        quorum.acknowledge(region: "eu", durableTxid: 2)
        quorum.acknowledge(region: "eu", durableTxid: 3)
        let resumed = await waited
        XCTAssertTrue(resumed)
    }

    func testAWaiterWithoutAQuorumGivesUpAtItsTimeout() async {
        let quorum = SyncQuorum(required: 1)
        let result = await quorum.wait(for: 1, timeout: .milliseconds(1))
        XCTAssertFalse(result)
    }

    func testADegradationEpisodeEndsWhenTheQuorumHoldsEveryDegradedWrite() {
        let quorum = SyncQuorum(required: 1)
        XCTAssertTrue(quorum.shouldWait(window: .seconds(60)), "outside an episode every write waits")
        quorum.answeredWithoutQuorum(txid: 7)
        quorum.answeredWithoutQuorum(txid: 8)
        XCTAssertEqual(quorum.snapshot.degraded, true)
        XCTAssertEqual(quorum.snapshot.degradedThroughTxid, 8)
        XCTAssertEqual(quorum.snapshot.degradedEpisodes, 1)
        XCTAssertFalse(quorum.shouldWait(window: .seconds(60)), "no replica: degraded writes do not wait")
        quorum.streamOpened(region: "eu", after: 7)
        XCTAssertTrue(quorum.snapshot.degraded, "txid 8 is not on the replica yet")
        XCTAssertTrue(quorum.shouldWait(window: .seconds(60)), "a live replica: writes wait for it again")
        quorum.acknowledge(region: "eu", durableTxid: 8)
        XCTAssertFalse(quorum.snapshot.degraded)
        XCTAssertNil(quorum.snapshot.degradedThroughTxid)
        quorum.answeredWithoutQuorum(txid: 8)
        XCTAssertFalse(quorum.snapshot.degraded, "a write the quorum already holds starts no episode")
    }
}
