import Foundation
import XCTest

/// Push delivery end to end: a real primary POSTs jobs to the example function over HTTP
/// and settles them from its answers and late receipts (`docs/serverless.md`).
final class PushDeliveryTests: XCTestCase {
    func testDeliveredSignedAndCompletedExactlyOnce() async throws {
        let h = try await PushHarness.started(for: self)
        let bound = try await h.bind("emails", "ok")
        XCTAssertEqual(bound["state"] as? String, "active")
        XCTAssertEqual(bound["secret"] as? String, "****", "the secret is stored sealed and never shown")
        var ids: [String] = []
        for i in 0..<5 { ids.append(try await h.push("emails", args: "[\(i)]")) }
        for (i, id) in ids.enumerated() {
            let job = try await h.job(id, reaches: "completed")
            XCTAssertEqual((job["result"] as? [String: Any])?["echo"] as? [Int], [i])
            XCTAssertEqual(job["attempt"] as? Int, 1)
            XCTAssertEqual(h.function.hits(job: id).count, 1, "exactly one delivery per job")
        }
        h.assertSignaturesValid()
        // A repeated receipt for a settled delivery cannot complete the job a second time.
        let hit = try XCTUnwrap(h.function.hits(job: ids[0]).first)
        let again = try await HTTP.exchange(
            "POST",
            h.base + "/ojs/v1/jobs/\(ids[0])/receipt",
            json: #"{"delivery_id":"\#(hit.deliveryId)","status":"completed","result":2}"#
        )
        XCTAssertEqual(again.status, 409)
        let error = try XCTUnwrap(again.json["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "conflict")
        XCTAssertEqual(error["retryable"] as? Bool, false)
        // The receipts log shows each delivery and its outcome.
        let log = try await HTTP.exchange("GET", h.base + "/ojs/v1/admin/push-endpoints/emails/deliveries?job_id=\(ids[0])").json
        let entries = try XCTUnwrap(log["items"] as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["outcome"] as? String }, ["completed"])
        XCTAssertEqual(entries.first?["http_status"] as? Int, 200)
    }

    /// In serverless mode nothing delivers between requests: a tick makes the delivery pass
    /// and answers only once the deliveries it started are settled.
    func testServerlessModeDeliversFromTheTick() async throws {
        let h = try await PushHarness.started(for: self, extraArguments: ["--serverless"])
        try await h.bind("emails", "ok")
        let ids = [try await h.push("emails", args: "[1]"), try await h.push("emails", args: "[2]")]
        let tick = try await HTTP.exchange("POST", h.base + "/ojs/v1/admin/tick")
        XCTAssertEqual(tick.status, 200)
        XCTAssertEqual(tick.json["serverless"] as? Bool, true)
        XCTAssertEqual(tick.json["push_deliveries"] as? Int, 2)
        for id in ids {
            let job = try await h.job(id)
            XCTAssertEqual(job["state"] as? String, "completed", "settled before the tick answered")
            XCTAssertEqual(h.function.hits(job: id).count, 1)
        }
        h.assertSignaturesValid()
        let idle = try await HTTP.exchange("POST", h.base + "/ojs/v1/admin/tick")
        XCTAssertEqual(idle.json["push_deliveries"] as? Int, 0)
    }

    func testRetriesFollowTheBackoffAndFailedReceiptsCount() async throws {
        let h = try await PushHarness.started(for: self)
        try await h.bind("flaky", "flaky")
        let id = try await h.push(
            "flaky",
            retry: #"{"max_attempts":4,"initial_interval":"PT0.3S","backoff_coefficient":2,"jitter":false}"#
        )
        let job = try await h.job(id, reaches: "completed")
        XCTAssertEqual(job["attempt"] as? Int, 3)
        let hits = h.function.hits(job: id)
        XCTAssertEqual(hits.count, 3)
        XCTAssertEqual(Set(hits.map(\.deliveryId)).count, 3, "a new delivery id per attempt")
        XCTAssertEqual(hits.map(\.attempt), [1, 2, 3])
        // 300 ms then 600 ms; a delivery waits at most one scheduler tick plus a pass beyond that.
        for (gap, policy) in zip(hits.gaps, [Int64(300), 600]) {
            XCTAssertGreaterThanOrEqual(gap, policy - 20, "retry came before the backoff")
            XCTAssertLessThanOrEqual(gap, policy + 500, "retry came far after the backoff")
        }
        let errors = try XCTUnwrap(job["errors"] as? [[String: Any]])
        XCTAssertEqual(errors.map { $0["code"] as? String }, ["push_error", "flaky"])
        h.assertSignaturesValid()
    }

    func testTimeoutsAreRetryableFailures() async throws {
        let h = try await PushHarness.started(for: self)
        try await h.bind("slow", "slow", extra: #""timeout_ms":200"#)
        let id = try await h.push("slow", retry: #"{"max_attempts":2,"initial_interval":"PT0.1S","jitter":false}"#)
        let job = try await h.job(id, reaches: "discarded")
        let errors = try XCTUnwrap(job["errors"] as? [[String: Any]])
        XCTAssertEqual(errors.map { $0["code"] as? String }, ["timeout", "timeout"])
        XCTAssertEqual(h.function.hits(job: id).count, 2)
    }

    func testNonRetryable4xxDiscardsAtOnce() async throws {
        let h = try await PushHarness.started(for: self)
        try await h.bind("picky", "reject")
        let id = try await h.push("picky", retry: #"{"max_attempts":5}"#)
        let job = try await h.job(id, reaches: "discarded")
        XCTAssertEqual(job["attempt"] as? Int, 1)
        XCTAssertEqual((job["error"] as? [String: Any])?["code"] as? String, "push_rejected")
        let endpoint = try await h.endpoint("picky")
        XCTAssertEqual(endpoint["state"] as? String, "active", "a job-level rejection says nothing about the endpoint's health")
    }

    func testLateReceiptIsAcceptedOnlyWhileTheDeliveryIsActive() async throws {
        let h = try await PushHarness.started(for: self)
        // The function answers 202 and POSTs its receipt a moment later.
        try await h.bind("later", "late")
        let id = try await h.push("later")
        let job = try await h.job(id, reaches: "completed")
        XCTAssertEqual((job["result"] as? [String: Any])?["late"] as? Bool, true)
        // The job completes before the function has read the answer to its receipt.
        let statuses = try await eventually("the function has its receipt's answer", within: 5) {
            h.function.receiptStatuses.isEmpty ? nil : h.function.receiptStatuses
        }
        XCTAssertEqual(statuses, [200])
        XCTAssertEqual(h.function.hits(job: id).count, 1)

        // An unknown delivery of an existing job: 404 with the standard body.
        let unknown = try await HTTP.exchange(
            "POST",
            h.base + "/ojs/v1/jobs/\(id)/receipt",
            json: #"{"delivery_id":"dlv_nope","status":"completed"}"#
        )
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual((unknown.json["error"] as? [String: Any])?["code"] as? String, "not_found")
        let bad = try await HTTP.exchange("POST", h.base + "/ojs/v1/jobs/\(id)/receipt", json: #"{"status":"completed"}"#)
        XCTAssertEqual(bad.status, 400)

        // A function that never sends its receipt: the delivery lapses after the receipt
        // timeout, and a receipt arriving after that is refused.
        try await h.bind("forgetful", "accept", extra: #""timeout_ms":100,"receipt_timeout_ms":300"#)
        let lost = try await h.push("forgetful", retry: #"{"max_attempts":1}"#)
        let lapsed = try await h.job(lost, reaches: "discarded")
        XCTAssertEqual((lapsed["error"] as? [String: Any])?["code"] as? String, "visibility_timeout")
        let delivery = try XCTUnwrap(h.function.hits(job: lost).first?.deliveryId)
        let tooLate = try await HTTP.exchange(
            "POST",
            h.base + "/ojs/v1/jobs/\(lost)/receipt",
            json: #"{"delivery_id":"\#(delivery)","status":"completed"}"#
        )
        XCTAssertEqual(tooLate.status, 409)
        XCTAssertEqual((tooLate.json["error"] as? [String: Any])?["code"] as? String, "conflict")
        let after = try await h.job(lost)
        XCTAssertEqual(after["state"] as? String, "discarded", "the refused receipt changed nothing")
        h.assertSignaturesValid()
    }

    func testBindingsFromTheConfigFile() async throws {
        let function = PushFunction(secret: PushHarness.secret)
        try await function.start()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString).json")
        try Data(#"{"endpoints":[{"queue":"filed","url":"\#(function.baseURL)/ok","secret":"\#(PushHarness.secret)","concurrency":3}]}"#.utf8)
            .write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let h = try PushHarness(extraArguments: ["--push-config", file.path])
        try await h.server.start()
        addTeardownBlock {
            await h.stop()
            await function.stop()
        }
        let endpoint = try await h.endpoint("filed")
        XCTAssertEqual(endpoint["concurrency"] as? Int, 3)
        let id = try await h.push("filed")
        try await h.job(id, reaches: "completed")
        XCTAssertEqual(function.hits(job: id).count, 1)

        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString).json")
        try Data(#"{"endpoints":[{"queue":"x","url":"ftp://nowhere"}]}"#.utf8).write(to: broken)
        defer { try? FileManager.default.removeItem(at: broken) }
        let refused = try Command.run(
            ServerProcess.binary,
            ["serve", "--port", "1", "--data-dir", h.root.path + "-broken", "--push-config", broken.path],
            capture: .standardError,
            timeout: 30
        )
        XCTAssertEqual(refused.status, 78)
        XCTAssertTrue(refused.text.contains("url"), refused.text)
    }

    func testReceiptsAndBindingsThroughAReplica() async throws {
        let cluster = try Cluster(primaryEnvironment: PushHarness.allowLoopback)
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let function = PushFunction(secret: PushHarness.secret)
        try await function.start()
        addTeardownBlock { await function.stop() }
        let replica = try XCTUnwrap(cluster.replicas["eu"]).baseURL
        // The function answers 202 and sends its receipt to the replica, which forwards it.
        function.receiptBase.withLock { $0 = replica }
        let bind = try await HTTP.exchange(
            "PUT",
            replica + "/ojs/v1/admin/push-endpoints/regional",
            json: #"{"url":"\#(function.baseURL)/late","secret":"\#(PushHarness.secret)"}"#
        )
        XCTAssertEqual(bind.status, 200, "\(bind.json)")
        XCTAssertEqual(bind.headers["ojs-served-by"], "primary")
        let push = try await HTTP.exchange("POST", replica + "/ojs/v1/jobs", json: #"{"type":"push.test","args":[1],"options":{"queue":"regional"}}"#)
        let id = try XCTUnwrap((push.json["job"] as? [String: Any])?["id"] as? String)
        try await eventually("the job completes", within: 10) {
            let job = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/jobs/\(id)").json["job"] as? [String: Any]
            return job?["state"] as? String == "completed" ? true : nil
        }
        let statuses = try await eventually("the function has its receipt's answer", within: 5) {
            function.receiptStatuses.isEmpty ? nil : function.receiptStatuses
        }
        XCTAssertEqual(statuses, [200])
        // The binding is readable on the replica's own copy once it has caught up.
        let bookmark = try await cluster.primaryBookmark()
        let seen = try await HTTP.exchange("GET", replica + "/ojs/v1/admin/push-endpoints/regional", headers: ["OJS-Bookmark": bookmark])
        XCTAssertEqual(seen.status, 200)
        XCTAssertEqual(seen.json["state"] as? String, "active")
        XCTAssertEqual(function.hits.filter { $0.jobId == id }.count, 1, "only the primary delivers")
    }
}
