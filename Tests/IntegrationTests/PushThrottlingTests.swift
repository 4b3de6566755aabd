import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The limits that protect a function: concurrency, rate, 429 back-off, the circuit breaker,
/// and disabling an endpoint that refuses us — all measured at the example function.
final class PushThrottlingTests: XCTestCase {
    func testConcurrencyLimitHoldsAtTheFunction() async throws {
        let h = try await PushHarness.started(for: self)
        h.function.setFailing(false, holdMs: 150)
        try await h.bind("narrow", "hold", extra: #""concurrency":2"#)
        var ids: [String] = []
        for i in 0..<8 { ids.append(try await h.push("narrow", args: "[\(i)]")) }
        for id in ids { try await h.job(id, reaches: "completed") }
        XCTAssertLessThanOrEqual(h.function.maxConcurrent, 2)
        XCTAssertEqual(h.function.hits.count, 8)
        h.assertSignaturesValid()
    }

    func testRateLimitHoldsOverEveryWindow() async throws {
        let h = try await PushHarness.started(for: self)
        try await h.bind("metered", "ok", extra: #""concurrency":50,"rate":{"per_second":5,"burst":2}"#)
        // Enqueued in one batch so the whole burst is waiting at once.
        let jobs = (0..<9).map { #"{"type":"push.test","args":[\#($0)],"options":{"queue":"metered"}}"# }
        let r = try await HTTP.exchange("POST", h.base + "/ojs/v1/jobs/batch", json: #"{"jobs":[\#(jobs.joined(separator: ","))]}"#)
        let ids = try XCTUnwrap(r.json["jobs"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        XCTAssertEqual(ids.count, 9)
        for id in ids { try await h.job(id, reaches: "completed") }
        XCTAssertEqual(h.function.hits.count, 9)
        // The limiter decides when each delivery starts, so the windows are checked on the
        // primary's own start times (its deliveries log, one clock): arrival times at the
        // function add network and scheduling jitter the limiter cannot control, and on a
        // loaded machine two deliveries started 200 ms apart can arrive 90 ms apart.
        let log = try await HTTP.exchange("GET", h.base + "/ojs/v1/admin/push-endpoints/metered/deliveries?limit=100")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let times = try XCTUnwrap(log.json["items"] as? [[String: Any]]).compactMap { item -> Int64? in
            (item["started_at"] as? String).flatMap(formatter.date(from:)).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
        }.sorted()
        XCTAssertEqual(times.count, 9, "one delivery per job")
        // In any window of w ms, at most rate × w + burst deliveries (2 ms for millisecond rounding).
        for (i, start) in times.enumerated() {
            for end in times[i...] {
                let window = Double(end - start + 2) / 1000
                let count = times[i...].filter { $0 <= end }.count
                XCTAssertLessThanOrEqual(Double(count), 5 * window + 2, "\(count) deliveries started within \(end - start) ms")
            }
        }
        XCTAssertGreaterThanOrEqual((times.last ?? 0) - (times.first ?? 0), 1000, "9 deliveries at 5/s after a burst of 2 take at least 1.4 s")
    }

    func testTooManyRequestsBacksOffWithoutCountingAnAttempt() async throws {
        let h = try await PushHarness.started(for: self)
        try await h.bind("crowded", "busy")
        let id = try await h.push("crowded", retry: #"{"max_attempts":1}"#)
        let job = try await h.job(id, reaches: "completed", within: 15)
        XCTAssertEqual(job["attempt"] as? Int, 1, "429s do not use up attempts (max_attempts is 1)")
        let hits = h.function.hits(job: id)
        XCTAssertEqual(hits.count, 3)
        // Retry-After: 1, then the default back-off doubled (2 s) after a second 429 in a row.
        let gaps = hits.gaps
        XCTAssertGreaterThanOrEqual(gaps[0], 1000 - 20)
        XCTAssertLessThanOrEqual(gaps[0], 1000 + 500)
        XCTAssertGreaterThanOrEqual(gaps[1], 2000 - 20)
        XCTAssertLessThanOrEqual(gaps[1], 2000 + 500)
        let endpoint = try await h.endpoint("crowded")
        XCTAssertEqual(endpoint["state"] as? String, "active")
    }

    func testCircuitOpensHalfOpensAndClosesAgain() async throws {
        let h = try await PushHarness.started(for: self)
        try await h.bind("shaky", "fail", extra: #""timeout_ms":2000,"circuit_breaker":{"failure_threshold":2,"cooldown_ms":300}"#)
        let id = try await h.push(
            "shaky",
            retry: #"{"max_attempts":20,"initial_interval":"PT0.05S","backoff_coefficient":1,"jitter":false}"#
        )
        let opened = try await h.endpoint("shaky", reaches: "open")
        XCTAssertEqual(opened["consecutive_failures"] as? Int, 2)
        XCTAssertTrue((opened["state_reason"] as? String ?? "").contains("consecutive"), "\(opened)")
        // The half-open probe fails too: open again, and nothing was sent during the cool-down.
        try await eventually("the probe failed", within: 5) {
            let e = try await h.endpoint("shaky")
            return e["state"] as? String == "open" && e["consecutive_failures"] as? Int == 3 ? true : nil
        }
        let hits = h.function.hits(job: id)
        XCTAssertGreaterThanOrEqual(hits.count, 3)
        XCTAssertGreaterThanOrEqual(hits[2].at - hits[1].at, 300 - 20, "a delivery went out while the circuit was open")
        // The function recovers; its answer is held so the half-open state can be seen.
        h.function.setFailing(false, holdMs: 600)
        try await h.endpoint("shaky", reaches: "half_open")
        try await h.endpoint("shaky", reaches: "active")
        try await h.job(id, reaches: "completed")
        h.assertSignaturesValid()
    }

    func testUnauthorizedAndNotFoundDisableTheEndpointAndKeepTheJob() async throws {
        let h = try await PushHarness.started(for: self)
        // A healthy endpoint whose deliveries prove the dispatcher made a pass. It sorts after
        // the others, and a pass walks endpoints in queue order.
        try await h.bind("zz-witness", "ok")
        for (queue, behaviour, status) in [("locked", "unauthorized", 401), ("moved", "gone", 404)] {
            try await h.bind(queue, behaviour)
            let first = try await h.push(queue, retry: #"{"max_attempts":1}"#)
            let disabled = try await h.endpoint(queue, reaches: "disabled")
            XCTAssertTrue((disabled["state_reason"] as? String ?? "").contains("\(status)"), "\(disabled)")
            // The job is not lost: back to available, the attempt not counted.
            let job = try await h.job(first, reaches: "available")
            XCTAssertEqual(job["attempt"] as? Int, 0)
            // No more deliveries while disabled: a second job waits too. The witness, pushed
            // after it, is delivered by a pass that began after the second job committed and
            // came to this queue first, so that pass saw the second job and left it.
            let second = try await h.push(queue)
            let witness = try await h.push("zz-witness")
            try await h.job(witness, reaches: "completed")
            XCTAssertEqual(h.function.hits.filter { $0.path == behaviour }.count, 1)
            let waiting = try await h.job(second)
            XCTAssertEqual(waiting["state"] as? String, "available")
            // Re-binding re-enables it; both jobs are then delivered.
            let rebound = try await h.bind(queue, "ok")
            XCTAssertEqual(rebound["state"] as? String, "active")
            try await h.job(first, reaches: "completed")
            try await h.job(second, reaches: "completed")
        }
        let list = try await HTTP.exchange("GET", h.base + "/ojs/v1/admin/push-endpoints").json
        XCTAssertEqual((list["items"] as? [[String: Any]])?.count, 3)
        let metrics = try await HTTP.session.data(from: try XCTUnwrap(URL(string: h.base + "/metrics"))).0
        XCTAssertTrue(String(decoding: metrics, as: UTF8.self).contains(#"ojs_push_deliveries_total{queue="locked",outcome="disabled"}"#))
        h.assertSignaturesValid()
    }
}
