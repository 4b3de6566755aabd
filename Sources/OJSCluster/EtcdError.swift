/// What can go wrong talking to etcd. `unreachable` and `status` with a retryable gRPC code are
/// transient (the caller retries on its own schedule); `malformed` means the gateway answered
/// something this client does not understand (a version mismatch, or not etcd at all).
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No endpoint answered: every one refused, failed or timed out. `lastError` is the last
    /// endpoint's failure, for the log.
    case unreachable(endpoints: [String], lastError: String)
    /// An endpoint answered with an error: the HTTP status, etcd's gRPC code (5 = not found,
    /// 14 = unavailable, …) when the body carried one, and its message.
    case status(httpStatus: Int, grpcCode: Int?, message: String)
    /// The answer was not the JSON shape the gateway documents.
    case malformed(String)
    /// The lease has expired or was revoked (etcd answers a keep-alive of a dead lease with
    /// no TTL, and grant/put/revoke with gRPC code 5).
    case leaseNotFound(Int64)

    /// etcd's gRPC code for "not found" (used for a lease that is gone).
    static let grpcNotFound = 5
    /// etcd's gRPC code for "unavailable": the member has no leader or is stopping; another
    /// endpoint may answer.
    static let grpcUnavailable = 14

    public var description: String {
        switch self {
        case .unreachable(let endpoints, let lastError): "etcd unreachable at \(endpoints.joined(separator: ", ")): \(lastError)"
        case .status(let http, let code, let message): "etcd answered HTTP \(http) (code \(code.map(String.init) ?? "-")): \(message)"
        case .malformed(let what): "etcd answer malformed: \(what)"
        case .leaseNotFound(let lease): "etcd lease \(lease) not found (expired or revoked)"
        }
    }
}
