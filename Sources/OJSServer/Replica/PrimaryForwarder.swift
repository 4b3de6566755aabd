import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import OJSCore
import OJSStore
import Tracing

/// Sends a request a replica cannot serve (every write, and reads it cannot serve fresh
/// enough) to the primary and relays the answer. The client's credentials, content type,
/// request id and trace context go along; nothing is added that would widen access.
///
/// A push always travels with an `Idempotency-Key` (the client's, or one made here), so one
/// whose answer is lost on the way back (connection reset, timeout) is sent again with the
/// same key: the primary either runs it for the first time or replays its recorded answer,
/// and a fault between regions never creates a job twice.
struct PrimaryForwarder: Sendable {
    let primaryURL: String
    let client: HTTPClient
    let maxBodyBytes: Int
    let region: String
    /// When on, the forward is a client span and the primary's request span its child.
    var tracing = false
    /// Tries for a push; other requests are sent once (they may not be safe to repeat).
    var pushAttempts = 4
    var timeout: TimeAmount = .seconds(30)

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
        let push = Self.isPush(request)
        let keyMadeHere = push && request.headers[.idempotencyKey] == nil
        if keyMadeHere {
            outbound.headers.add(name: "Idempotency-Key", value: "replica-\(region)-" + UUIDv7.make(millis: Store.systemClock()))
        }
        if request.method != .get, request.method != .head, request.method != .delete {
            let body = try await JSONBody.raw(request, limit: maxBodyBytes)
            outbound.body = .bytes(body)
        }
        let attempts = push ? pushAttempts : 1
        let (upstream, body) =
            tracing
            ? try await withSpan("ojs.forward", ofKind: .client) { span in
                span.attributes["http.request.method"] = request.method.rawValue
                span.attributes["url.path"] = request.uri.path
                span.attributes["ojs.region"] = region
                InstrumentationSystem.instrument.inject(span.context, into: &outbound.headers, using: HTTPHeadersInjector())
                let answer = try await send(outbound, attempts: attempts)
                span.attributes["http.response.status_code"] = Int(answer.0.status.code)
                return answer
            }
            : try await send(outbound, attempts: attempts)
        var headers = HTTPFields()
        for (name, value) in upstream.headers where !Self.droppedResponseHeaders.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        // The client sent no key, so from its side there was only ever one request.
        if keyMadeHere { headers[.idempotentReplayed] = nil }
        return Response(status: HTTPResponse.Status(code: Int(upstream.status.code)), headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// Sends, and for a push sends again after a transport failure, with a short backoff.
    func send(_ outbound: HTTPClientRequest, attempts: Int) async throws -> (HTTPClientResponse, ByteBuffer) {
        var attempt = 1
        while true {
            do {
                let upstream = try await client.execute(outbound, timeout: timeout)
                return (upstream, try await upstream.body.collect(upTo: 256 << 20))
            } catch {
                guard attempt < attempts, !Task.isCancelled else {
                    throw OJSError(.unavailable, "The primary could not be reached from region \(region): \(error).")
                }
                try await Task.sleep(for: .milliseconds(50 << attempt))
                attempt += 1
            }
        }
    }

    static func isPush(_ request: Request) -> Bool {
        request.method == .post && (request.uri.path == "/ojs/v1/jobs" || request.uri.path == "/ojs/v1/jobs/batch")
    }
}
