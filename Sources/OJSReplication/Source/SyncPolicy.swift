/// Synchronous replication: how many replicas must have durably received a write's
/// transaction before the write is answered, how long to wait for them, and what to do when
/// they do not answer in time (`docs/replication-protocol.md`, *Synchronous replicas*).
public struct SyncPolicy: Sendable, Equatable {
    /// Replicas (distinct regions with an open stream) that must acknowledge a write's
    /// transaction before it is answered. 0 answers after the local commit, as without this
    /// feature, and adds no work to any request.
    public var replicas: Int
    /// How long a write waits for its acknowledgements.
    public var timeoutMs: Int
    /// When the acknowledgements do not come in time: answer the write normally anyway
    /// (counted, logged once per episode, `ojs_sync_degraded` 1) instead of `503
    /// x_sync_timeout`.
    public var degrade: Bool

    /// 2 s. An acknowledgement costs one apply (an fsync) and one round trip: about 1 ms on a
    /// LAN, and 10× a 150 ms cross-region round trip plus a slow disk's 100 ms fsync still fits
    /// under 2 s. It also covers a replica's first reconnect after a dropped stream (500 ms,
    /// `ReconnectBackoff`). And it stays well below a replica's 10 s forward timeout
    /// (`ServerConfiguration.forwardTimeoutMs`), so a forwarded write hears the definite,
    /// retryable `x_sync_timeout` rather than `504 x_outcome_unknown`.
    public static let defaultTimeoutMs = 2000

    public init(replicas: Int = 0, timeoutMs: Int = SyncPolicy.defaultTimeoutMs, degrade: Bool = false) {
        self.replicas = replicas
        self.timeoutMs = timeoutMs
        self.degrade = degrade
    }

    /// Whether writes wait for replicas at all.
    public var isEnabled: Bool { replicas > 0 }
}
