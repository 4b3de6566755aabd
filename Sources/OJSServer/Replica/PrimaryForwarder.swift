import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import OJSCore
import OJSStore
import Tracing

/// Sends a request a replica cannot serve (every write, and reads it cannot serve fresh
/// enough) to the primary and relays the answer. The client's credentials, content type,
/// request id and trace context go along; nothing is added that would widen access.
///
/// A push, fetch, ack or nack always travels with an `Idempotency-Key`, so one whose answer
/// is lost on the way back (connection reset, timeout) can be sent again: the primary either
/// runs it for the first time or replays its recorded answer, and a fault between regions
/// never creates a job twice, claims one twice or settles one twice. A push keeps the client's
/// key or gets a fresh one; a worker call's key is its request id (`X-Request-Id`), so the
/// client itself can replay it after a 504 (`docs/consistency.md`).
///
/// The forwarder has an HTTP client of its own (`--forward-pool-size`): forwarded calls and
/// the replication stream do not queue behind each other.
struct PrimaryForwarder: Sendable {
    let primaryURL: String
    let client: HTTPClient
    let maxBodyBytes: Int
    let region: String
    /// When on, the forward is a client span and the primary's request span its child.
    var tracing = false
    /// Tries for a request that is safe to repeat; others are sent once.
    var attempts = ServerConfiguration().forwardAttempts
    var timeout: TimeAmount = .milliseconds(Int64(ServerConfiguration().forwardTimeoutMs))

    /// Headers relayed to the primary; everything else (hop-by-hop, Host) is dropped.
    static let forwardedRequestHeaders: Set<String> = [
        "authorization", "content-type", "accept", "ojs-version", "idempotency-key", "traceparent", "tracestate", "ojs-bookmark",
    ]
    static let droppedResponseHeaders: Set<String> = ["connection", "transfer-encoding", "content-length", "keep-alive", "date", "server"]
    /// Where a worker's fetch, ack and nack are sent: each is keyed by its request id.
    static let workerCallPaths: Set<String> = ["/ojs/v1/workers/fetch", "/ojs/v1/workers/ack", "/ojs/v1/workers/nack"]
    /// Prefix of a worker call's key, so it cannot collide with a producer's push key.
    static let requestKeyPrefix = "request-"

    func forward(_ request: Request, requestId: String) async throws -> Response {
        var outbound = HTTPClientRequest(url: primaryURL + (request.uri.string.hasPrefix("/") ? request.uri.string : "/" + request.uri.string))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where Self.forwardedRequestHeaders.contains(field.name.canonicalName) {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        outbound.headers.replaceOrAdd(name: HTTPField.Name.requestId.rawName, value: requestId)
        outbound.headers.add(name: HTTPField.Name.forwardedBy.rawName, value: "replica/\(region)")
        let key = Self.idempotencyKey(request, requestId: requestId, region: region)
        if let made = key.made { outbound.headers.add(name: HTTPField.Name.idempotencyKey.rawName, value: made) }
        if request.method != .get, request.method != .head, request.method != .delete {
            let body = try await JSONBody.raw(request, limit: maxBodyBytes)
            outbound.body = .bytes(body)
        }
        let repeatable = key.value != nil || request.method == .get || request.method == .head
        let (upstream, body) =
            tracing
            ? try await withSpan("ojs.forward", ofKind: .client) { span in
                span.attributes["http.request.method"] = request.method.rawValue
                span.attributes["url.path"] = request.uri.path
                span.attributes["ojs.region"] = region
                InstrumentationSystem.instrument.inject(span.context, into: &outbound.headers, using: HTTPHeadersInjector())
                let answer = try await send(outbound, attempts: repeatable ? attempts : 1, requestId: requestId, key: key.value)
                span.attributes["http.response.status_code"] = Int(answer.0.status.code)
                return answer
            }
            : try await send(outbound, attempts: repeatable ? attempts : 1, requestId: requestId, key: key.value)
        var headers = HTTPFields()
        for (name, value) in upstream.headers where !Self.droppedResponseHeaders.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        // The key was made here for a client that cannot have sent the request before: from
        // its side there was only ever one request.
        if key.madeForOneRequest { headers[.idempotentReplayed] = nil }
        return Response(status: HTTPResponse.Status(code: Int(upstream.status.code)), headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// The key a forwarded request travels with: `value` is the key in force (the client's or
    /// one made here), `made` the one to add, and `madeForOneRequest` whether the client
    /// cannot have sent it before (a push without a key, a worker call without a request id).
    static func idempotencyKey(
        _ request: Request,
        requestId: String,
        region: String
    ) -> (value: String?, made: String?, madeForOneRequest: Bool) {
        if let sent = request.headers[.idempotencyKey] { return (sent, nil, false) }
        if isPush(request) {
            let made = "replica-\(region)-" + UUIDv7.make(millis: Store.systemClock())
            return (made, made, true)
        }
        guard request.method == .post, workerCallPaths.contains(request.uri.path) else { return (nil, nil, false) }
        // A request id is at most 200 visible ASCII characters (`OJSMiddleware`), so the key
        // fits the 255 a key may have.
        let made = requestKeyPrefix + requestId
        return (made, made, request.headers[.requestId] != requestId)
    }

    /// Sends, and for a request that is safe to repeat sends again after a transport failure,
    /// with a short backoff. A failure after the request may have reached the primary is 504
    /// `x_outcome_unknown`; one where it certainly did not is 503.
    func send(_ outbound: HTTPClientRequest, attempts: Int, requestId: String, key: String?) async throws -> (HTTPClientResponse, ByteBuffer) {
        var attempt = 1
        var maybeSent = false
        while true {
            do {
                let upstream = try await client.execute(outbound, timeout: timeout)
                return (upstream, try await upstream.body.collect(upTo: 256 << 20))
            } catch {
                let sent = !Self.neverSent(error)
                maybeSent = maybeSent || sent
                // A timeout is not repeated: the primary is slow, and a repeat would only queue
                // behind the first try.
                let timedOut = (error as? HTTPClientError) == .deadlineExceeded
                guard attempt < attempts, !timedOut, !Task.isCancelled else {
                    guard maybeSent else {
                        throw OJSError(.unavailable, "The primary could not be reached from region \(region): \(error). Nothing was sent.")
                    }
                    throw outcomeUnknown(error, requestId: requestId, key: key, repeatable: attempts > 1)
                }
                try await Task.sleep(for: .milliseconds(50 << attempt))
                attempt += 1
            }
        }
    }

    /// 504: the request may or may not have run on the primary.
    func outcomeUnknown(_ error: any Error, requestId: String, key: String?, repeatable: Bool) -> OJSError {
        var details: JSONObject = ["request_id": .string(requestId), "replay_safe": .bool(repeatable)]
        if let key { details["idempotency_key"] = .string(key) }
        let advice =
            repeatable
            ? "Sending it again with the same X-Request-Id (or Idempotency-Key) is safe: it returns the first outcome and does nothing twice."
            : "This request is not replayed by id; check the resource's state before sending it again."
        return OJSError(
            .outcomeUnknown,
            "The request was forwarded from region \(region) to the primary, but "
                + "its answer was lost (\(error)); it may or may not have taken effect. "
                + advice,
            details: details
        )
    }

    /// Whether a transport error proves the request never left: no connection was made, or
    /// the request never got one from the pool.
    static func neverSent(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let error = error as? HTTPClientError {
            return error == .connectTimeout || error == .getConnectionFromPoolTimeout
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError { return [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode) }
        return false
    }

    static func isPush(_ request: Request) -> Bool {
        request.method == .post && (request.uri.path == "/ojs/v1/jobs" || request.uri.path == "/ojs/v1/jobs/batch")
    }
}
