import Foundation
import XCTest

/// The connection-level limits, against a real process: an oversized head gets 431, a body
/// that stops arriving gets 408, an idle connection is closed, and connections past the
/// bound wait until one closes.
final class ConnectionLimitsTests: XCTestCase {
    func startServer(_ arguments: [String]) async throws -> ServerProcess {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-conn-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let server = try ServerProcess(dataDir: dir, extraArguments: arguments)
        try await server.start()
        addTeardownBlock { server.kill9() }
        return server
    }

    func testOversizedHeadAndSlowBodyGetOJSErrors() async throws {
        let server = try await startServer(["--max-header-bytes", "2048", "--request-timeout-ms", "500"])

        let big = try RawConnection(port: server.port)
        try big.sendRequest("GET", "/ojs/v1/health", headers: ["X-Padding: " + String(repeating: "p", count: 4096)])
        let tooLarge = try XCTUnwrap(big.readResponse(timeout: 10), "no answer to an oversized head")
        XCTAssertEqual(tooLarge.status, 431)
        XCTAssertEqual((tooLarge.json["error"] as? [String: Any])?["code"] as? String, "request_header_fields_too_large")
        XCTAssertTrue(big.closedByServer(within: 10))

        // A head within the bound is served as usual.
        let fine = try RawConnection(port: server.port)
        try fine.sendRequest("GET", "/ojs/v1/health", headers: ["X-Padding: " + String(repeating: "p", count: 512)])
        XCTAssertEqual(fine.readResponse(timeout: 10)?.status, 200)

        // A body promised but never finished: 408 once the request timeout passes.
        let slow = try RawConnection(port: server.port)
        try slow.sendRequest("POST", "/ojs/v1/jobs", body: #"{"type":"a","#, contentLength: 100)
        let timedOut = try XCTUnwrap(slow.readResponse(timeout: 10), "no answer to an unfinished body")
        XCTAssertEqual(timedOut.status, 408)
        XCTAssertEqual((timedOut.json["error"] as? [String: Any])?["code"] as? String, "request_timeout")
        XCTAssertTrue(slow.closedByServer(within: 10))

        // Nothing was created by the half-sent push, and the server is healthy.
        let stats = try await HTTP.exchange("GET", server.baseURL + "/ojs/v1/queues/default/stats")
        XCTAssertEqual((stats.json["stats"] as? [String: Any])?["available"] as? Int, 0)
    }

    func testConnectionsPastTheBoundWaitForASlot() async throws {
        let server = try await startServer(["--idle-timeout-ms", "60000", "--max-connections", "2"])

        // Two kept-alive connections take both slots.
        let first = try RawConnection(port: server.port)
        try first.sendRequest("GET", "/ojs/v1/health")
        XCTAssertEqual(first.readResponse(timeout: 10)?.status, 200)
        let second = try RawConnection(port: server.port)
        try second.sendRequest("GET", "/ojs/v1/health")
        XCTAssertEqual(second.readResponse(timeout: 10)?.status, 200)

        // A third is accepted by the kernel but not served while both are held.
        let third = try RawConnection(port: server.port)
        try third.sendRequest("GET", "/ojs/v1/health")
        XCTAssertNil(third.readResponse(timeout: 0.5), "a connection past --max-connections was served")

        // Once one closes, the waiting request is served.
        first.close()
        XCTAssertEqual(third.readResponse(timeout: 10)?.status, 200)
    }

    func testIdleTimeoutClosesASilentConnection() async throws {
        let server = try await startServer(["--idle-timeout-ms", "300"])
        let silent = try RawConnection(port: server.port)
        XCTAssertTrue(silent.closedByServer(within: 10), "an idle connection was not closed")
        // A connection that sends only part of a head is idle too: no request part was decoded.
        let partial = try RawConnection(port: server.port)
        try partial.send("GET /ojs/v1/health HTTP/1.1\r\nHost: x\r\n")
        XCTAssertTrue(partial.closedByServer(within: 10), "a half-sent head held its connection")
    }
}
