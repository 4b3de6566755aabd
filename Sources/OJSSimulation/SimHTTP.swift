import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP exchange of the simulator: status, the consistency headers, and the JSON body.
struct Exchange: Sendable {
    var status: Int
    var bookmark: String?
    var servedBy: String?
    var body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
}

/// Why a request got no HTTP answer, in words that group well in a report.
enum TransportFailure {
    static func kind(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .remoteConnectionClosed: return "connection closed"
            case .connectTimeout, .readTimeout, .deadlineExceeded: return "timeout"
            default: break
            }
        }
        let text = String(describing: error).lowercased()
        if text.contains("refused") { return "connection refused" }
        if text.contains("reset") { return "connection reset" }
        if text.contains("timeout") || text.contains("timed out") { return "timeout" }
        return "network error"
    }
}

extension HTTPClient {
    func exchange(
        _ method: HTTPMethod,
        _ url: String,
        json: String? = nil,
        bookmark: String? = nil,
        timeout: TimeAmount = .seconds(10)
    )
        async throws -> Exchange
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/openjobspec+json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        if let bookmark { request.headers.add(name: "OJS-Bookmark", value: bookmark) }
        let response = try await execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 16 << 20)
        return Exchange(
            status: Int(response.status.code),
            bookmark: response.headers.first(name: "OJS-Bookmark"),
            servedBy: response.headers.first(name: "OJS-Served-By"),
            body: Data(body.readableBytesView)
        )
    }
}
