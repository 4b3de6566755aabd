import AsyncHTTPClient
import NIOCore
import OJSCore
import OJSStore

/// The HTTP request of one delivery: the body `{"job", "worker_id", "delivery_id"}` (the job
/// exactly as the API renders it) and the headers that identify and sign it.
enum PushRequest {
    static func body(job: JobSnapshot, workerId: String, deliveryId: String) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("job")
        job.write(into: &w)
        w.field("worker_id", workerId)
        w.field("delivery_id", deliveryId)
        w.endObject()
        return w.bytes
    }

    /// `target` is where the guard checked the function lives (for `http://`, the checked
    /// address, with the name in `Host`).
    static func make(
        _ delivery: PushDelivery,
        endpoint: PushEndpointConfig,
        secret: String,
        target: PushTargetGuard.Target,
        workerId: String,
        version: String
    ) -> HTTPClientRequest {
        let bytes = body(job: delivery.job, workerId: workerId, deliveryId: delivery.deliveryId)
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        if let host = target.hostHeader { request.headers.add(name: "Host", value: host) }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ojs-edge/\(version)")
        request.headers.add(name: "X-OJS-Delivery-ID", value: delivery.deliveryId)
        request.headers.add(name: "X-OJS-Job-ID", value: delivery.job.id)
        request.headers.add(name: "X-OJS-Signature", value: DeliverySignature.header(body: bytes, secret: secret))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        return request
    }

    /// Sends one delivery and classifies the answer; never throws (no answer is an outcome too).
    static func send(
        _ delivery: PushDelivery,
        endpoint: PushEndpointConfig,
        secret: String,
        target: PushTargetGuard.Target,
        workerId: String,
        version: String,
        client: HTTPClient,
        clock: () -> Int64
    ) async -> (outcome: DeliveryOutcome, status: Int?) {
        let request = make(delivery, endpoint: endpoint, secret: secret, target: target, workerId: workerId, version: version)
        do {
            let response = try await client.execute(request, timeout: .milliseconds(endpoint.timeoutMs))
            let body = try await response.body.collect(upTo: maxReceiptBytes)
            let status = Int(response.status.code)
            let outcome = DeliveryOutcome.classify(
                status: status,
                body: Array(body.readableBytesView),
                retryAfter: response.headers.first(name: "Retry-After"),
                now: clock()
            )
            return (outcome, status)
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return (.timedOut(afterMs: endpoint.timeoutMs), nil)
        } catch is NIOTooManyBytesError {
            return (.invalidReceipt("the receipt exceeds \(maxReceiptBytes) bytes"), nil)
        } catch {
            return (.unreachable("\(error)"), nil)
        }
    }

    static let maxReceiptBytes = 1 << 20
}
