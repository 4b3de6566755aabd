import Foundation
import XCTest

/// SIGTERM under load: the primary stops accepting, answers what it accepted, commits and
/// checkpoints, ends the replication stream (so replicas know it left on purpose), exits 0,
/// and a restart finds every answered push.
final class GracefulShutdownTests: XCTestCase {
    func testSIGTERMUnderLoadLosesNothingAndTellsTheReplica() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let primary = cluster.primary
        let base = primary.baseURL
        let ledger = Ledger()
        // SIGTERM lands after 150 answered pushes, while four producers keep pushing.
        let signal = KillSwitch(primaryPID: try XCTUnwrap(primary.pid), replicaPID: nil, after: 150, signal: SIGTERM)
        let refusedAfterStop = Counter()
        await withTaskGroup(of: Void.self) { group in
            for p in 0..<4 {
                group.addTask {
                    var i = 0
                    while true {
                        i += 1
                        let r = try? await HTTP.exchange("POST", base + "/ojs/v1/jobs", json: #"{"type":"term.job","args":[\#(p),\#(i)]}"#)
                        guard let r else {
                            // Refused: the listener is gone. Stop once the signal was sent.
                            if signal.fired {
                                refusedAfterStop.add()
                                return
                            }
                            continue
                        }
                        if r.status == 201, let id = (r.json["job"] as? [String: Any])?["id"] as? String {
                            ledger.pushed(id)
                            signal.answered()
                        } else if signal.fired, r.status == 503 {
                            return
                        }
                    }
                }
            }
        }
        primary.terminate(grace: 20)
        XCTAssertFalse(primary.lingered, "the primary did not exit within 20 s of SIGTERM")
        XCTAssertEqual(primary.exitStatus, 0)
        XCTAssertGreaterThan(refusedAfterStop.value, 0)

        // The final checkpoint folded the WAL into the database.
        let wal = primary.dataDir.appendingPathComponent("ojs.db-wal")
        let walSize = (try? FileManager.default.attributesOfItem(atPath: wal.path)[.size] as? Int) ?? 0
        XCTAssertEqual(walSize, 0, "the WAL was not checkpointed at shutdown")

        // The replica was told (the stream ended cleanly), not left to time out.
        let replica = try XCTUnwrap(cluster.replicas["eu"])
        let status = try await eventually("the replica records that the primary closed its stream", within: 5, every: .milliseconds(50)) {
            let status = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/replication/status").json
            return status["stream_closed_by_primary_at"] is String ? status : nil
        }
        XCTAssertEqual(status["state"] as? String, "disconnected")

        // Everything answered is there after a restart, and the replica catches up to it.
        try await primary.start()
        let pushed = ledger.snapshot().pushed
        XCTAssertGreaterThanOrEqual(pushed.count, 150)
        for id in pushed {
            let r = try await HTTP.exchange("GET", primary.baseURL + "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(r.status, 200, "answered push \(id) lost in a graceful shutdown")
        }
        let (p, r) = try await cluster.digestsAtOnePosition("eu")
        XCTAssertEqual(r["sha256"] as? String, p["sha256"] as? String)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
