import AsyncHTTPClient
import Foundation
import NIOCore
import OJSCore
import Synchronization

/// A client for etcd v3's JSON gateway (`/v3/...`, etcd 3.4 and later) over AsyncHTTPClient:
/// leases, single-key reads and writes, prefix listings and the one compare-and-swap the
/// election needs. No gRPC: the gateway is plain HTTP/1.1 POSTs with JSON bodies, in which keys
/// and values are base64 and every int64 is a JSON string.
///
/// Endpoints are tried in order starting with the last one that answered, so a healthy member
/// keeps the traffic and a dead one costs one failed attempt per call only until another answers.
/// An endpoint that answers with an error is final (etcd decided), except gRPC code 14
/// (unavailable: that member has no leader), which moves on to the next endpoint.
public struct EtcdClient: Sendable {
    /// Base URLs such as `http://10.0.0.5:2379`, in order of preference.
    public let endpoints: [String]
    /// Bound on one attempt at one endpoint (connect, send, answer).
    public let requestTimeout: Duration
    let client: HTTPClient
    private let preferred: PreferredEndpoint

    /// Bound on an answer's body: a prefix listing of a few hundred node records is tens of
    /// kilobytes, so 16 MiB only stops a runaway answer.
    public static let maxAnswerBytes = 16 << 20
    /// etcd's default: one attempt must not outlast the 2 s that many callers budget for it.
    public static let defaultRequestTimeout: Duration = .seconds(2)

    public init(endpoints: [String], client: HTTPClient, requestTimeout: Duration = EtcdClient.defaultRequestTimeout) {
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.client = client
        self.requestTimeout = requestTimeout
        self.preferred = PreferredEndpoint()
    }

    /// The endpoint the next call tries first (the last one that answered).
    public var currentEndpoint: String? { endpoints.isEmpty ? nil : endpoints[preferred.index % endpoints.count] }

    /// POSTs `body` to `path` and returns the answer's JSON object.
    func call(_ path: String, _ body: JSONValue, timeout: Duration? = nil) async throws -> JSONObject {
        let bytes = JSONWriter.bytes(body)
        let first = preferred.index
        var lastError = "no endpoints configured"
        for step in 0..<endpoints.count {
            let index = (first + step) % endpoints.count
            var request = HTTPClientRequest(url: endpoints[index] + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: bytes))
            let answer: (status: Int, body: ByteBuffer)
            do {
                let response = try await client.execute(request, timeout: Self.timeAmount(timeout ?? requestTimeout))
                answer = (Int(response.status.code), try await response.body.collect(upTo: Self.maxAnswerBytes))
            } catch {
                try Task.checkCancellation()
                lastError = "\(endpoints[index]): \(error)"
                continue
            }
            let object = try Self.parseObject(answer.body, path: path)
            if answer.status == 200 {
                preferred.index = index
                return object
            }
            let code = object["code"]?.intValue.map(Int.init)
            let message = object["message"]?.stringValue ?? object["error"]?.stringValue ?? "HTTP \(answer.status)"
            if code == EtcdError.grpcUnavailable {
                lastError = "\(endpoints[index]): \(message)"
                continue
            }
            preferred.index = index
            throw EtcdError.status(httpStatus: answer.status, grpcCode: code, message: message)
        }
        throw EtcdError.unreachable(endpoints: endpoints, lastError: lastError)
    }

    static func parseObject(_ body: ByteBuffer, path: String) throws -> JSONObject {
        let bytes = Array(body.readableBytesView)
        guard let value = try? JSONParser.parse(bytes), let object = value.objectValue else {
            throw EtcdError.malformed("\(path) answered \(bytes.count) bytes that are not a JSON object")
        }
        return object
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// The index of the endpoint that answered last, shared by every copy of one `EtcdClient`.
final class PreferredEndpoint: Sendable {
    private let value = Atomic<Int>(0)
    var index: Int {
        get { value.load(ordering: .relaxed) }
        set { value.store(newValue, ordering: .relaxed) }
    }
}
