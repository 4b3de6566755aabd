import Foundation

/// One node's membership settings.
public struct ClusterMemberConfig: Sendable {
    /// Cluster name: the keys live under `/ojs-edge/<cluster>/`.
    public var cluster: String
    /// This node's name (its region): its node key is `/ojs-edge/<cluster>/nodes/<name>`.
    public var name: String
    /// Where other nodes and clients reach this node.
    public var advertiseURL: String
    /// `--lease-ttl-ms`: how long after losing etcd this node may still act as leader, and so
    /// about how long a failover waits for a silent leader. etcd leases are whole seconds with
    /// a minimum of about 2 s (1.5 election timeouts of its default 1 s, rounded up), so the
    /// lease granted is `max(2, ceil(ms / 1000))` s; the fence uses the smaller of this value and
    /// what etcd granted, so it never runs past either.
    public var leaseTTLms: Int
    /// How often `leaderChanges()` reads the leader key. 100 ms: a change is seen within
    /// 100 ms + one round trip, inside the 250 ms budget with round trips up to 150 ms, and the
    /// load (10 single-key reads a second per watching node) is a rounding error for etcd,
    /// which serves thousands. Polling rather than `/v3/watch`: every poll has its own timeout,
    /// so a silently dead connection cannot hide a change the way a stalled watch stream can.
    public var pollMs: Int
    /// The monotonic clock (ms) every deadline is measured on; injectable for tests.
    public var monotonicNow: @Sendable () -> Int64

    /// The default `pollMs` (see there).
    public static let defaultPollMs = 100
    /// etcd's smallest lease with default timing (see `leaseTTLms`).
    public static let minimumLeaseSeconds = 2
    /// The smallest fencing margin: covers one keep-alive's own scheduling and clock-rate drift
    /// between this machine and etcd's on short leases, where a fifth of the TTL is little.
    public static let minimumFenceMarginMs = 250
    /// After a failed keep-alive, the next try comes this soon (not a whole interval later), so
    /// a passing fault costs little of the fence.
    public static let keepAliveRetryMs = 100

    public init(
        cluster: String,
        name: String,
        advertiseURL: String,
        leaseTTLms: Int,
        pollMs: Int = ClusterMemberConfig.defaultPollMs,
        monotonicNow: @escaping @Sendable () -> Int64 = ClusterMemberConfig.systemMonotonicMs
    ) {
        self.cluster = cluster
        self.name = name
        self.advertiseURL = advertiseURL
        self.leaseTTLms = leaseTTLms
        self.pollMs = pollMs
        self.monotonicNow = monotonicNow
    }

    /// The lease TTL asked of etcd, in whole seconds.
    public var leaseSeconds: Int { max(Self.minimumLeaseSeconds, (leaseTTLms + 999) / 1000) }

    /// The fencing margin for a lease of `ttlMs`: a fifth of it, at least 250 ms. A fifth leaves
    /// the keep-alive (every third of the TTL) two tries after a failed one before the fence
    /// closes, and is far above clock-rate drift (parts per million) plus scheduling delay.
    public static func fenceMarginMs(ttlMs: Int64) -> Int64 { max(ttlMs / 5, Int64(minimumFenceMarginMs)) }

    /// CLOCK_MONOTONIC in milliseconds: never jumps with the wall clock.
    public static let systemMonotonicMs: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    func validate() throws {
        guard ClusterKeys.isValidName(cluster) else { throw ClusterMemberError.invalidConfiguration("cluster name \(cluster)") }
        guard ClusterKeys.isValidName(name) else { throw ClusterMemberError.invalidConfiguration("node name \(name)") }
        guard leaseTTLms > 0 else { throw ClusterMemberError.invalidConfiguration("lease TTL \(leaseTTLms) ms") }
        guard pollMs > 0 else { throw ClusterMemberError.invalidConfiguration("poll interval \(pollMs) ms") }
    }
}
