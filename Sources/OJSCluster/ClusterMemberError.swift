/// A `ClusterMember` call made in the wrong state or with a bad configuration.
public enum ClusterMemberError: Error, Sendable, Equatable {
    /// `start()` was not called, or the member is between a lost lease and the next grant.
    case noLease
    /// `stop()` was called.
    case stopped
    /// The configuration cannot work (a name that does not fit in a key, a TTL under 1 ms…).
    case invalidConfiguration(String)
}
