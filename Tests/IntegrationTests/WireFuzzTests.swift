import Foundation
import OJSSimulation
import XCTest

/// Mutated bytes on the wire, below the router: request lines, header blocks and chunked
/// bodies with bytes flipped, inserted, dropped or cut short, each on its own connection.
/// The HTTP parser and the connection guard must answer below 500 or close, and the server
/// must stay up and keep its data. (`FuzzTests` covers the routes themselves, in-process.)
final class WireFuzzTests: XCTestCase {
    static let templates = [
        "POST /ojs/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/openjobspec+json\r\nContent-Length: 26\r\n\r\n{\"type\":\"w.a\",\"args\":[1]}",
        "POST /ojs/v1/workers/fetch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n13\r\n{\"queues\":[\"wire\"]}\r\n0\r\n\r\n",
        "GET /ojs/v1/queues/default/stats?x=1 HTTP/1.1\r\nHost: x\r\nOJS-Bookmark: 0000000000000001-00000000\r\n\r\n",
        "DELETE /ojs/v1/jobs/0190b8a8-0000-7000-8000-000000000001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]

    func testMutatedRequestBytesNeverCrashOrCorrupt() async throws {
        let count = Int(ProcessInfo.processInfo.environment["OJS_WIRE_FUZZ_COUNT"] ?? "") ?? 400
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-wire-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try ServerProcess(dataDir: dir, extraArguments: ["--request-timeout-ms", "300", "--idle-timeout-ms", "300"])
        try await server.start()
        defer { server.kill9() }
        let kept = try await HTTP.exchange(
            "POST",
            server.baseURL + "/ojs/v1/jobs",
            json: #"{"type":"kept","args":[1],"options":{"queue":"kept-queue"}}"#
        )
        let keptID = try XCTUnwrap((kept.json["job"] as? [String: Any])?["id"] as? String)
        let keptBefore = try await HTTP.exchange("GET", server.baseURL + "/ojs/v1/jobs/\(keptID)").json["job"] as? [String: Any]

        var rng = SplitMix(UInt64(ProcessInfo.processInfo.environment["OJS_WIRE_FUZZ_SEED"] ?? "") ?? 7)
        var answered = 0
        var serverErrors = 0
        for _ in 0..<count {
            var bytes = Array(Self.templates[Int(rng.next() % UInt64(Self.templates.count))].utf8)
            for _ in 0..<(1 + rng.next() % 4) where !bytes.isEmpty {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                case 2: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            let connection = try RawConnection(port: server.port)
            try? connection.send(bytes: bytes)
            if let response = connection.readResponse(timeout: 5) {
                answered += 1
                if response.status >= 500 { serverErrors += 1 }
                XCTAssertLessThan(response.status, 500, "\(response.status) for \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
            connection.close()
        }
        let health = try await HTTP.exchange("GET", server.baseURL + "/ojs/v1/health")
        XCTAssertEqual(health.status, 200)
        let keptAfter = try await HTTP.exchange("GET", server.baseURL + "/ojs/v1/jobs/\(keptID)").json["job"] as? [String: Any]
        XCTAssertEqual(keptAfter?["state"] as? String, keptBefore?["state"] as? String)
        XCTAssertEqual(keptAfter?["args"] as? [Int], [1])
        print("wire fuzz: \(count) mutated requests, \(answered) answered, \(serverErrors) with 5xx")
    }
}
