import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import OJSCore

/// Sends a request a replica cannot serve (every write, and reads it cannot serve fresh
/// enough) to the primary and relays the answer. The client's credentials, content type,
/// request id and trace context go along; nothing is added that would widen access.
struct PrimaryForwarder: Sendable {
    let primaryURL: String
    let client: HTTPClient
    let maxBodyBytes: Int
    let region: String

    /// Headers relayed to the primary; everything else (hop-by-hop, Host) is dropped.
    static let forwardedRequestHeaders: [String] = [
        "authorization", "content-type", "accept", "ojs-version", "idempotency-key", "traceparent", "tracestate",
        "ojs-bookmark",
    ]
    static let droppedResponseHeaders: Set<String> = ["connection", "transfer-encoding", "content-length", "keep-alive", "date", "server"]

    func forward(_ request: Request, requestId: String) async throws -> Response {
        var outbound = HTTPClientRequest(url: primaryURL + (request.uri.string.hasPrefix("/") ? request.uri.string : "/" + request.uri.string))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where Self.forwardedRequestHeaders.contains(field.name.canonicalName) {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        outbound.headers.replaceOrAdd(name: "X-Request-Id", value: requestId)
        outbound.headers.add(name: "OJS-Forwarded-By", value: "replica/\(region)")
        if request.method != .get, request.method != .head, request.method != .delete {
            let body = try await JSONBody.raw(request, limit: maxBodyBytes)
            outbound.body = .bytes(body)
        }
        let upstream: HTTPClientResponse
        do {
            upstream = try await client.execute(outbound, timeout: .seconds(30))
        } catch {
            throw OJSError(.unavailable, "The primary could not be reached from region \(region): \(error).")
        }
        let body = try await upstream.body.collect(upTo: 256 << 20)
        var headers = HTTPFields()
        for (name, value) in upstream.headers where !Self.droppedResponseHeaders.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: HTTPResponse.Status(code: Int(upstream.status.code)), headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
