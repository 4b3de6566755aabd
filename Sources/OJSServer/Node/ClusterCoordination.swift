/// What a failover node needs from the cluster's coordinator (etcd in production,
/// `EtcdCoordination`; an in-memory one in tests). The node runtime (`NodeRuntime`) is written
/// against this alone, so its state machine can be tested without an etcd.
///
/// The coordinator holds this node's lease, publishes its position under it, and elects: a
/// node may take the leader key only while no node holds it and only if its copy is at least
/// as new as every live node's published position.
public protocol ClusterCoordination: Sendable {
    /// Takes a lease and keeps it alive until `leave`; a lease that is lost is replaced.
    func join() async throws
    /// Publishes this node's role and the position of its copy, under its lease.
    func publish(role: NodeRoleName, position: CopyPosition) async throws
    /// The leader key and the live nodes' published records, read together.
    func observe() async throws -> ClusterObservation
    /// Takes the leader key if this node may (see the type's comment); nil when it may not or
    /// another node was faster.
    func campaign(position: CopyPosition) async throws -> ClusterLeader?
    /// Whether a leader ever committed in this cluster: a node with an empty data directory
    /// may only found a cluster that has no history, never replace one.
    func hasHistory() async throws -> Bool
    /// Records that this cluster now has a history (its first leader calls this).
    func markHistory() async throws
    /// Gives the leader key up, if this node still holds it.
    func resign() async
    /// Revokes the lease.
    func leave() async
    /// Whether this node's lease still lets it commit at monotonic time `nowMs`: false from a
    /// safety margin before etcd could expire the lease. Called by the writer thread around
    /// every commit, so it must not block.
    func mayCommit(nowMs: Int64) -> Bool
    /// Unix milliseconds at which the lease would expire if no keepalive arrived from now on
    /// (for status), nil while the node holds none.
    func leaseExpiresAt() -> Int64?
}

/// The node holding the cluster's leader key.
public struct ClusterLeader: Sendable, Equatable {
    public var name: String
    /// Where its OJS API answers (`--advertise`).
    public var url: String
    /// Increases with every new leader: the leader key's creation revision in etcd.
    public var epoch: Int64

    public init(name: String, url: String, epoch: Int64) {
        self.name = name
        self.url = url
        self.epoch = epoch
    }
}

/// One read of the cluster's keys.
public struct ClusterObservation: Sendable, Equatable {
    /// nil when no node holds the leader key.
    public var leader: ClusterLeader?
    /// Every live node's published record, sorted by name.
    public var nodes: [ClusterMemberRecord]

    public init(leader: ClusterLeader?, nodes: [ClusterMemberRecord]) {
        self.leader = leader
        self.nodes = nodes
    }
}

/// What one live node published: its role, its URL and its copy's position.
public struct ClusterMemberRecord: Sendable, Equatable {
    public var name: String
    public var url: String
    public var role: String
    public var position: CopyPosition

    public init(name: String, url: String, role: String, position: CopyPosition) {
        self.name = name
        self.url = url
        self.role = role
        self.position = position
    }
}

/// Where a node's copy stands: what the election compares.
public struct CopyPosition: Sendable, Equatable {
    /// The history the copy belongs to; nil for a node with no copy.
    public var generation: String?
    public var txid: UInt64
    /// The record chain's value at `txid`.
    public var checksum: UInt32

    public init(generation: String?, txid: UInt64, checksum: UInt32) {
        self.generation = generation
        self.txid = txid
        self.checksum = checksum
    }

    public static let empty = CopyPosition(generation: nil, txid: 0, checksum: 0)
}

/// A node's role as published and reported.
public enum NodeRoleName: String, Sendable {
    case primary
    case replica
    /// Between roles: electing, bootstrapping, stepping down.
    case candidate
}
