import OJSCore

/// Leases: `/v3/lease/grant`, `/v3/lease/keepalive`, `/v3/lease/revoke`.
extension EtcdClient {
    /// Gateway paths of the lease calls.
    enum LeasePath {
        static let grant = "/v3/lease/grant"
        static let keepAlive = "/v3/lease/keepalive"
        static let revoke = "/v3/lease/revoke"
    }

    /// Grants a lease of `ttlSeconds` and returns its id. etcd may raise the TTL to its minimum
    /// (about 2 s with the default 100 ms heartbeat: 1.5 election timeouts, rounded up).
    public func grantLease(ttlSeconds: Int) async throws -> Int64 {
        try await grant(ttlSeconds: ttlSeconds).lease
    }

    /// `grantLease`, also returning the TTL etcd actually granted.
    public func grant(ttlSeconds: Int) async throws -> (lease: Int64, ttlSeconds: Int64) {
        let answer = try await call(LeasePath.grant, ["TTL": EtcdWire.int64(Int64(ttlSeconds))])
        let lease = try EtcdWire.int64(answer, "ID")
        let ttl = try EtcdWire.int64(answer, "TTL")
        guard lease != 0, ttl > 0 else {
            throw EtcdError.malformed("grant answered lease \(lease) with TTL \(ttl): \(answer["error"]?.jsonText ?? "")")
        }
        return (lease, ttl)
    }

    /// Refreshes `lease` once and returns its TTL in seconds, as etcd now counts it from the
    /// refresh. Throws `leaseNotFound` when the lease has expired or was revoked (etcd answers
    /// such a keep-alive with no TTL). `timeout` bounds this attempt (the member passes what is
    /// left of its fence, so a late answer cannot be taken for a fresh one).
    public func keepAliveOnce(lease: Int64, timeout: Duration? = nil) async throws -> Int64 {
        let answer: JSONObject
        do {
            answer = try await call(LeasePath.keepAlive, ["ID": EtcdWire.int64(lease)], timeout: timeout)
        } catch let error as EtcdError {
            throw Self.leaseError(error, lease: lease)
        }
        // The keep-alive call is a stream in gRPC: the gateway wraps each message in "result".
        let result = try EtcdWire.object(answer, "result")
        let ttl = try EtcdWire.int64(result, "TTL")
        guard ttl > 0 else { throw EtcdError.leaseNotFound(lease) }
        return ttl
    }

    /// Revokes `lease`: every key bound to it is deleted at once. Throws `leaseNotFound` when it
    /// was already gone.
    public func revoke(lease: Int64) async throws {
        do {
            _ = try await call(LeasePath.revoke, ["ID": EtcdWire.int64(lease)])
        } catch let error as EtcdError {
            throw Self.leaseError(error, lease: lease)
        }
    }

    /// etcd's "requested lease not found" (gRPC code 5) as `leaseNotFound`.
    static func leaseError(_ error: EtcdError, lease: Int64) -> EtcdError {
        if case .status(_, let code, let message) = error, code == EtcdError.grpcNotFound, message.contains("lease") {
            return .leaseNotFound(lease)
        }
        return error
    }
}
