import Synchronization

/// What a failover node knows of its cluster, for status, metrics and the dashboard: written
/// by the node runtime, read by any request.
public final class ClusterView: Sendable {
    public struct State: Sendable, Equatable {
        public var cluster: String
        public var node: String
        public var advertiseURL: String
        public var role: NodeRoleName = .candidate
        public var leader: ClusterLeader?
        /// The live nodes as they last published themselves.
        public var nodes: [ClusterMemberRecord] = []
        /// Unix ms the lease would expire without another keepalive.
        public var leaseExpiresAt: Int64?
        /// Times this node became the leader since it started.
        public var promotions = 0
        /// Times this node stopped being the leader since it started.
        public var stepDowns = 0
        /// Leader changes this node has seen (including its own).
        public var leaderChanges = 0
        /// Why the node is between roles, when it is.
        public var detail: String?
    }

    private let state: Mutex<State>

    public init(cluster: String, node: String, advertiseURL: String) {
        state = Mutex(State(cluster: cluster, node: node, advertiseURL: advertiseURL))
    }

    public var current: State { state.withLock { $0 } }

    func update(_ body: (inout State) -> Void) { state.withLock { body(&$0) } }
}
