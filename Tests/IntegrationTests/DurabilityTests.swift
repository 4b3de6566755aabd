import Foundation
import XCTest

/// Acknowledged writes survive `kill -9`: every push answered 201 before the kill is there
/// after a restart, and every ack answered 200 stayed completed.
final class DurabilityTests: XCTestCase {
    func testAcknowledgedPushesAndAcksSurviveKill9() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try ServerProcess(dataDir: dir)
        try await server.start()
        let base = server.baseURL

        // Concurrent pushes; the server is killed while some are still in flight.
        let acknowledged = try await withThrowingTaskGroup(of: String?.self) { group in
            for i in 0..<400 {
                group.addTask {
                    guard
                        let (status, body) = try? await HTTP.request(
                            "POST",
                            base + "/ojs/v1/jobs",
                            json: #"{"type":"durable.test","args":[\#(i)],"options":{"queue":"durable"}}"#
                        ),
                        status == 201, let job = (body as? [String: Any])?["job"] as? [String: Any]
                    else { return nil }
                    return job["id"] as? String
                }
            }
            var ids: [String] = []
            var killed = false
            for try await id in group {
                if let id { ids.append(id) }
                if ids.count == 250 && !killed {
                    server.kill9()
                    killed = true
                }
            }
            return ids
        }
        XCTAssertGreaterThanOrEqual(acknowledged.count, 250)

        try await server.start()
        // Ack a few, then kill again: the acks must stick too.
        let (_, fetched) = try await HTTP.request("POST", base + "/ojs/v1/workers/fetch", json: #"{"queues":["durable"],"count":20}"#)
        let claimed = ((fetched as? [String: Any])?["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        XCTAssertEqual(claimed.count, 20)
        for id in claimed {
            let (status, _) = try await HTTP.request("POST", base + "/ojs/v1/workers/ack", json: #"{"job_id":"\#(id)"}"#)
            XCTAssertEqual(status, 200)
        }
        server.kill9()
        try await server.start()
        defer { server.terminate() }

        for id in acknowledged {
            let (status, body) = try await HTTP.request("GET", base + "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(status, 200, "acknowledged job \(id) lost")
            let state = ((body as? [String: Any])?["job"] as? [String: Any])?["state"] as? String
            if claimed.contains(id) {
                XCTAssertEqual(state, "completed")
            } else {
                XCTAssertEqual(state, "available")
            }
        }
    }
}
