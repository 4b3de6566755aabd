import XCTest

@testable import OJSReplication

/// The replica's reaction to failures, as pure functions: the backoff schedule and which
/// answers from the primary may discard the copy.
final class ReplicaFaultTests: XCTestCase {
    func testBackoffDoublesFromHalfASecondToTheCap() {
        let backoff = ReconnectBackoff()
        XCTAssertEqual((1...7).map { backoff.delayMs(attempt: $0, random: 0) }, [500, 1000, 2000, 4000, 8000, 15_000, 15_000])
    }

    func testJitterOnlyLengthensAndNeverPassesTheCap() {
        let backoff = ReconnectBackoff(initialMs: 500, maxMs: 15_000, jitter: 0.2)
        for attempt in 1...40 {
            for random in [0, 0.25, 0.5, 0.999] {
                let delay = backoff.delayMs(attempt: attempt, random: random)
                XCTAssertGreaterThanOrEqual(delay, min(15_000, 500 << min(attempt - 1, 5)), "attempt \(attempt)")
                XCTAssertLessThanOrEqual(delay, 15_000)
            }
        }
        XCTAssertEqual(backoff.delayMs(attempt: 1, random: 0.5), 550)
        XCTAssertEqual(backoff.delayMs(attempt: 2, random: 0.999), 1199)
    }

    func testTheFirstRetryKeepsARefusedReplicaUnderTwoRequestsPerSecond() {
        let backoff = ReconnectBackoff()
        XCTAssertGreaterThanOrEqual(backoff.delayMs(attempt: 1, random: 0), 500)
        // Over the first 30 s of a fault, with the shortest waits jitter allows.
        var elapsed = 0
        var attempts = 0
        while elapsed < 30_000 {
            attempts += 1
            elapsed += backoff.delayMs(attempt: attempts, random: 0)
        }
        XCTAssertLessThanOrEqual(attempts, 8)
    }

    func testHugeAttemptNumbersDoNotOverflow() {
        let backoff = ReconnectBackoff(initialMs: Int.max / 2, maxMs: Int.max, jitter: 1)
        XCTAssertEqual(backoff.delayMs(attempt: Int.max, random: 0.9), Int.max)
        XCTAssertEqual(ReconnectBackoff().delayMs(attempt: Int.max, random: 0), 15_000)
        XCTAssertEqual(ReconnectBackoff().delayMs(attempt: -3, random: 0), 500)
    }

    func testOnlyTheTwoHistoryRefusalsDiscardTheCopy() {
        XCTAssertEqual(ReplicationProtocol.outcome(status: 409), .historyDiverged)
        XCTAssertEqual(ReplicationProtocol.outcome(status: 410), .positionTrimmed)
        XCTAssertEqual(ReplicationProtocol.outcome(status: 401), .fault(.refused))
        XCTAssertEqual(ReplicationProtocol.outcome(status: 403), .fault(.refused))
        for status in [500, 502, 503, 504] { XCTAssertEqual(ReplicationProtocol.outcome(status: status), .fault(.unavailable)) }
        for status in [301, 400, 404, 429] { XCTAssertEqual(ReplicationProtocol.outcome(status: status), .fault(.unexpectedStatus)) }
    }

    func testRefusalsMapToTheStatusesTheReplicaReadsBack() {
        let refusals: [StreamRefusal] = [.generationMismatch(current: .random()), .snapshotRequired(oldestAvailable: 9), .ahead(last: 3)]
        for refusal in refusals {
            let status = ReplicationProtocol.status(for: refusal)
            let outcome = ReplicationProtocol.outcome(status: status)
            if case .snapshotRequired = refusal {
                XCTAssertEqual(outcome, .positionTrimmed)
            } else {
                XCTAssertEqual(outcome, .historyDiverged)
            }
        }
    }

    func testTailerErrorsAreClassified() {
        typealias T = ReplicaTailer
        XCTAssertEqual(T.outcome(of: T.TailError.status(401, "")), .fault(.refused))
        XCTAssertEqual(T.outcome(of: T.TailError.status(503, "")), .fault(.unavailable))
        XCTAssertEqual(T.outcome(of: T.TailError.generationChanged), .historyDiverged)
        XCTAssertEqual(T.outcome(of: T.TailError.snapshotRequired), .positionTrimmed)
        XCTAssertEqual(T.outcome(of: T.TailError.brokenStream("crc")), .fault(.brokenStream), "a damaged stream keeps the copy")
        XCTAssertEqual(T.outcome(of: T.StreamEnded()), .fault(.network))
        XCTAssertEqual(T.outcome(of: ReplicaApplyError.noFileHandle), .fault(.local))
    }

    func testThePositionReportRoundTrips() {
        let report = ReplicationProtocol.PositionReport(appliedTxid: 42, state: "streaming", generation: "g")
        guard case .success(let parsed) = ReplicationProtocol.PositionReport.parse(report.json) else { return XCTFail() }
        XCTAssertEqual(parsed, report)
        guard case .failure(let failure) = ReplicationProtocol.PositionReport.parse(["applied_txid": .int(-1)]) else { return XCTFail() }
        XCTAssertEqual(failure.field, "applied_txid")
    }

    func testReplicaHealthNamesTheReason() {
        var status = ReplicaStatus()
        status.state = .streaming
        XCTAssertNil(status.unhealthyReason(diverged: false))
        status.state = .refused
        status.fault = ReplicaFault(kind: .refused, detail: "primary answered 401", since: 0)
        XCTAssertEqual(status.unhealthyReason(diverged: false), "refused by the primary: primary answered 401")
        XCTAssertNotNil(status.unhealthyReason(diverged: true))
    }
}
