/// Where a node's copy of the database stands, as it publishes it: the replication generation
/// (its text form), the last applied transaction id, the record chain's checksum there, and
/// the node's role. Plain values so this module needs nothing from the store or replication.
public struct NodePosition: Sendable, Equatable {
    public var generation: String
    public var txid: UInt64
    public var checksum: UInt32
    public var role: NodeRole

    public init(generation: String, txid: UInt64, checksum: UInt32, role: NodeRole) {
        self.generation = generation
        self.txid = txid
        self.checksum = checksum
        self.role = role
    }

    /// Whether `other` stops this node from becoming leader, i.e. is strictly newer.
    ///
    /// - Same generation: txids count the same history, so `other` is newer iff its txid is
    ///   higher. Equal txids are equally new (the leader key's txn picks one).
    /// - Different generation: txids of two histories cannot be compared, so such a node can
    ///   neither be ignored (it may hold the newer history: a replica that has already followed
    ///   a primary into a fresh generation) nor trusted to be behind. It blocks only when its
    ///   txid is higher too.
    ///
    /// Both cases come to "a strictly higher txid blocks"; they are written out so a later,
    /// finer rule (for example preferring the generation of the last leader) changes one branch.
    /// The cost of the cautious branch: a node stranded on an old generation with a high txid
    /// blocks the election until it republishes or its lease ends.
    public func isOutranked(by other: NodePosition) -> Bool {
        if other.generation == generation { return other.txid > txid }
        return other.txid > txid
    }
}
