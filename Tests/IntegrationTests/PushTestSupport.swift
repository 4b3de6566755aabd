import Foundation
import XCTest

/// A primary process and the example function, with the HTTP calls the push tests share.
final class PushHarness: @unchecked Sendable {
    static let secret = "whsec-test-0123456789abcdef"
    let server: ServerProcess
    let function = PushFunction(secret: PushHarness.secret)
    let root: URL

    /// The example function listens on loopback, which push targets may reach only when
    /// allowlisted.
    static let allowLoopback = ["OJS_PUSH_ALLOW_HOSTS": "127.0.0.1/32"]

    init(extraArguments: [String] = [], environment: [String: String] = PushHarness.allowLoopback) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-push-\(UUID().uuidString)")
        server = try ServerProcess(dataDir: root, extraArguments: extraArguments, environment: environment)
    }

    var base: String { server.baseURL }

    func start() async throws {
        try await function.start()
        function.receiptBase.withLock { $0 = server.baseURL }
        try await server.start()
    }

    /// A started harness that stops when `test` ends.
    static func started(for test: XCTestCase, extraArguments: [String] = []) async throws -> PushHarness {
        let h = try PushHarness(extraArguments: extraArguments)
        try await h.start()
        test.addTeardownBlock { await h.stop() }
        return h
    }

    func stop() async {
        server.terminate()
        await function.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// Binds `queue` to the function's `behaviour`; `extra` adds binding fields.
    @discardableResult
    func bind(_ queue: String, _ behaviour: String, extra: String = "", via base: String? = nil) async throws -> [String: Any] {
        let body = #"{"url":"\#(function.baseURL)/\#(behaviour)","secret":"\#(Self.secret)"\#(extra.isEmpty ? "" : "," + extra)}"#
        let r = try await HTTP.exchange("PUT", (base ?? self.base) + "/ojs/v1/admin/push-endpoints/\(queue)", json: body)
        guard r.status == 200 else { throw TestFailure("binding \(queue) failed: \(r.status) \(r.json)") }
        return r.json
    }

    /// Enqueues a job and returns its id; `retry` is a retry policy object.
    func push(_ queue: String, args: String = "[1]", retry: String? = nil, via base: String? = nil) async throws -> String {
        let options = #"{"queue":"\#(queue)"\#(retry.map { #","retry":\#($0)"# } ?? "")}"#
        let r = try await HTTP.exchange(
            "POST",
            (base ?? self.base) + "/ojs/v1/jobs",
            json: #"{"type":"push.test","args":\#(args),"options":\#(options)}"#
        )
        guard r.status == 201, let id = (r.json["job"] as? [String: Any])?["id"] as? String else {
            throw TestFailure("push failed: \(r.status) \(r.json)")
        }
        return id
    }

    func job(_ id: String) async throws -> [String: Any] {
        try await HTTP.exchange("GET", base + "/ojs/v1/jobs/\(id)").json["job"] as? [String: Any] ?? [:]
    }

    func endpoint(_ queue: String, via base: String? = nil) async throws -> [String: Any] {
        try await HTTP.exchange("GET", (base ?? self.base) + "/ojs/v1/admin/push-endpoints/\(queue)").json
    }

    /// Waits until the job reaches `state` and returns it.
    @discardableResult
    func job(_ id: String, reaches state: String, within seconds: TimeInterval = 10) async throws -> [String: Any] {
        try await eventually("job \(id) is \(state)", within: seconds) {
            let job = try await self.job(id)
            return job["state"] as? String == state ? job : nil
        }
    }

    /// Waits until the endpoint of `queue` is in `state` and returns it.
    @discardableResult
    func endpoint(_ queue: String, reaches state: String, within seconds: TimeInterval = 10) async throws -> [String: Any] {
        try await eventually("endpoint \(queue) is \(state)", within: seconds) {
            let endpoint = try await self.endpoint(queue)
            return endpoint["state"] as? String == state ? endpoint : nil
        }
    }

    /// Every delivery the function received carried a valid signature and matching headers.
    func assertSignaturesValid(file: StaticString = #filePath, line: UInt = #line) {
        let hits = function.hits
        XCTAssertFalse(hits.isEmpty, "the function received nothing", file: file, line: line)
        for hit in hits where !hit.signatureValid {
            XCTFail("delivery \(hit.deliveryId) of job \(hit.jobId) had a bad signature or headers", file: file, line: line)
        }
    }
}

extension Array where Element == PushFunction.Hit {
    /// Milliseconds between consecutive arrivals.
    var gaps: [Int64] { zip(self.dropFirst(), self).map { $0.at - $1.at } }
}
