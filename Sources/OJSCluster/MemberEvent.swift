/// What a `ClusterMember` reports on `events`.
public enum MemberEvent: Sendable, Equatable {
    /// A lease was granted (at start, and after each loss). Keys are published under it.
    case leaseGranted(lease: Int64)
    /// The lease is gone: etcd said so, or no keep-alive was acknowledged before the fencing
    /// deadline. Leadership held under it is over: the fence already said so when this arrives.
    case lost(lease: Int64, reason: LossReason)

    public enum LossReason: Sendable, Equatable {
        /// etcd answered that the lease no longer exists.
        case expired
        /// Keep-alives failed until the fencing deadline passed (etcd unreachable or slow).
        case keepAliveTimedOut
    }
}
