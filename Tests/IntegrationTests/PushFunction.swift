import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import OJSCore
import ServiceLifecycle
import Synchronization

/// The local example function of `docs/serverless.md`: an HTTP server that receives push
/// deliveries, checks their signature itself (HMAC-SHA256 of the raw body bytes with the
/// shared secret), and answers as the path asks:
///
/// - `/ok`: `200 {"status":"completed","result":{"echo":args}}`
/// - `/flaky`: per job, 500 first, then `200 {"status":"failed"}`, then completed
/// - `/fail`: 500 always (or completed after `failing` is switched off, held `holdMs`)
/// - `/slow`: answers after 1.5 s (past any test's delivery timeout)
/// - `/busy`: 429 with `Retry-After: 1`, then 429 without it, then completed
/// - `/late`: `202 Accepted`, then POSTs the receipt to `receiptBase` shortly after
/// - `/accept`: `202 Accepted` and never a receipt
/// - `/hold`: completed after `holdMs` (concurrency measurements)
/// - `/reject`: 422; `/unauthorized`: 401; `/gone`: 404
final class PushFunction: @unchecked Sendable {
    struct Hit: Sendable {
        var path: String
        var jobId: String
        var deliveryId: String
        var attempt: Int
        /// Unix milliseconds at arrival.
        var at: Int64
        var signatureValid: Bool
    }

    private struct State {
        var hits: [Hit] = []
        var perJob: [String: Int] = [:]
        var busy = 0
        var concurrent = 0
        var maxConcurrent = 0
        var failing = true
        var holdMs = 100
        var receiptStatuses: [Int] = []
    }

    let secret: String
    /// Where `/late` POSTs its receipts (the primary, or a replica).
    let receiptBase = Mutex<String>("")
    private let state = Mutex(State())
    private var group: ServiceGroup?
    private var task: Task<Void, any Error>?
    private(set) var port = 0

    init(secret: String) { self.secret = secret }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var hits: [Hit] { state.withLock { $0.hits } }
    var maxConcurrent: Int { state.withLock { $0.maxConcurrent } }
    var receiptStatuses: [Int] { state.withLock { $0.receiptStatuses } }
    func hits(job: String) -> [Hit] { hits.filter { $0.jobId == job } }
    func setFailing(_ failing: Bool, holdMs: Int? = nil) {
        state.withLock {
            $0.failing = failing
            if let holdMs { $0.holdMs = holdMs }
        }
    }

    func start() async throws {
        let router = Router()
        router.post("/:behaviour") { request, context in
            let body = try await request.body.collect(upTo: 1 << 20)
            return try await self.handle(context.parameters.get("behaviour") ?? "", request: request, body: Array(body.readableBytesView))
        }
        var logger = Logger(label: "push-function")
        logger.logLevel = .error
        let bound = PortBox()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.set(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        port = try await eventually("the example function is listening", every: .milliseconds(5)) { bound.value == 0 ? nil : bound.value }
    }

    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }

    private func handle(_ behaviour: String, request: Request, body: [UInt8]) async throws -> Response {
        // The signature covers the exact bytes received, so it is checked before parsing.
        func header(_ name: String) -> String { request.headers.first { $0.name.canonicalName == name }?.value ?? "" }
        let signature = header("x-ojs-signature")
        // Computed here with swift-crypto directly, not with the server's own signing code.
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        let expected = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        let parsed = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        let job = parsed["job"] as? [String: Any] ?? [:]
        let jobId = job["id"] as? String ?? ""
        let deliveryId = parsed["delivery_id"] as? String ?? ""
        let hit = Hit(
            path: behaviour,
            jobId: jobId,
            deliveryId: deliveryId,
            attempt: job["attempt"] as? Int ?? 0,
            at: Int64(Date().timeIntervalSince1970 * 1000),
            signatureValid: signature == expected && deliveryId == header("x-ojs-delivery-id")
                && jobId == header("x-ojs-job-id")
        )
        let (seen, busyCount, failing, holdMs) = state.withLock { s in
            s.hits.append(hit)
            s.perJob[jobId, default: 0] += 1
            s.concurrent += 1
            s.maxConcurrent = max(s.maxConcurrent, s.concurrent)
            if behaviour == "busy" { s.busy += 1 }
            return (s.perJob[jobId] ?? 0, s.busy, s.failing, s.holdMs)
        }
        defer { state.withLock { $0.concurrent -= 1 } }
        let completed = Self.json(200, #"{"status":"completed","result":{"echo":\#(Self.text(job["args"] ?? []))}}"#)
        switch behaviour {
        case "ok":
            return completed
        case "flaky":
            if seen == 1 { return Self.json(500, #"{"oops":true}"#) }
            if seen == 2 { return Self.json(200, #"{"status":"failed","error":{"code":"flaky","message":"second try fails too"}}"#) }
            return completed
        case "fail":
            if failing { return Self.json(500, "{}") }
            try await Task.sleep(for: .milliseconds(holdMs))
            return completed
        case "slow":
            try? await Task.sleep(for: .milliseconds(1500))
            return completed
        case "busy":
            if busyCount == 1 { return Response(status: .tooManyRequests, headers: [.retryAfter: "1"]) }
            if busyCount == 2 { return Response(status: .tooManyRequests) }
            return completed
        case "late":
            let base = receiptBase.withLock { $0 }
            Task {
                try? await Task.sleep(for: .milliseconds(50))
                let r = try? await HTTP.exchange(
                    "POST",
                    base + "/ojs/v1/jobs/\(jobId)/receipt",
                    json: #"{"delivery_id":"\#(deliveryId)","status":"completed","result":{"late":true}}"#
                )
                self.state.withLock { $0.receiptStatuses.append(r?.status ?? -1) }
            }
            return Response(status: .accepted)
        case "accept":
            return Response(status: .accepted)
        case "hold":
            try await Task.sleep(for: .milliseconds(holdMs))
            return completed
        case "reject":
            return Self.json(422, #"{"error":"args not understood"}"#)
        case "unauthorized":
            return Response(status: .unauthorized)
        default:
            return Response(status: .notFound)
        }
    }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    static func text(_ value: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

private final class PortBox: Sendable {
    private let port = Mutex(0)
    var value: Int { port.withLock { $0 } }
    func set(_ p: Int) { port.withLock { $0 = p } }
}
