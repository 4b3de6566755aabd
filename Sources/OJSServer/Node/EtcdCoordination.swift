import AsyncHTTPClient
import Foundation
import Logging
import OJSCluster

/// `ClusterCoordination` over etcd (`OJSCluster`): the node's `ClusterMember` holds the lease,
/// publishes, campaigns and fences; one range over the cluster's prefix reads the leader key
/// and every node's record in a single request per tick. The cluster's history marker is a
/// key with no lease, so it outlives every node.
public final class EtcdCoordination: ClusterCoordination {
    /// 3 s: a failover takes about one lease plus a poll, and a leader steps down when its
    /// renewals stall for a lease minus the fencing margin (2.4 s), which rides out an etcd
    /// leader election (1 s election timeout by default) without a false failover.
    public static let defaultLeaseTTLms = 3000
    /// etcd's minimum lease with its default timings (`ClusterMemberConfig.minimumLeaseSeconds`).
    public static let minimumLeaseTTLms = ClusterMemberConfig.minimumLeaseSeconds * 1000

    let member: ClusterMember
    let etcd: EtcdClient
    let keys: ClusterKeys
    let logger: Logger

    public init(endpoints: [String], cluster: String, name: String, advertiseURL: String, leaseTTLms: Int, logger: Logger) {
        etcd = EtcdClient(endpoints: endpoints, client: HTTPClient.shared)
        let config = ClusterMemberConfig(cluster: cluster, name: name, advertiseURL: advertiseURL, leaseTTLms: leaseTTLms)
        member = ClusterMember(config: config, etcd: etcd, logger: logger)
        keys = member.keys
        self.logger = logger
    }

    var historyKey: String { keys.prefix + "history" }

    public func join() async throws { try await member.start() }

    public func publish(role: NodeRoleName, position: CopyPosition) async throws {
        try await member.publish(position: Self.nodePosition(position, role: role))
    }

    public func observe() async throws -> ClusterObservation {
        let all = try await etcd.list(prefix: keys.prefix)
        var leader: ClusterLeader?
        var nodes: [ClusterMemberRecord] = []
        for kv in all {
            if kv.key == keys.leader, let record = LeaderRecord(kv) {
                leader = ClusterLeader(name: record.name, url: record.url, epoch: record.epoch)
            } else if kv.key.hasPrefix(keys.nodesPrefix), let record = NodeRecord(kv) {
                let p = record.position
                nodes.append(
                    ClusterMemberRecord(
                        name: record.name,
                        url: record.url,
                        role: p.role.rawValue,
                        position: CopyPosition(generation: p.generation.isEmpty ? nil : p.generation, txid: p.txid, checksum: p.checksum)
                    )
                )
            }
        }
        return ClusterObservation(leader: leader, nodes: nodes.sorted { $0.name < $1.name })
    }

    public func campaign(position: CopyPosition) async throws -> ClusterLeader? {
        guard let won = try await member.campaign(position: Self.nodePosition(position, role: .candidate)) else { return nil }
        return ClusterLeader(name: won.name, url: won.url, epoch: won.epoch)
    }

    public func hasHistory() async throws -> Bool { try await etcd.get(historyKey) != nil }

    public func markHistory() async throws {
        _ = try await etcd.createIfAbsent(historyKey, Array(Date().description.utf8), lease: nil)
    }

    public func resign() async {
        do {
            _ = try await member.resign()
        } catch {
            logger.warning("could not give the leader key up; it goes with the lease", metadata: ["error": .string("\(error)")])
        }
    }

    public func leave() async { await member.stop() }

    public func mayCommit(nowMs: Int64) -> Bool { member.fence.leaderEpoch(now: nowMs) != nil }

    public func leaseExpiresAt() -> Int64? {
        let deadline = member.fence.deadline
        guard deadline != .min else { return nil }
        // The fencing deadline is the margin before etcd's expiry, on the monotonic clock;
        // status shows etcd's expiry in wall-clock time.
        let wall = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let margin = ClusterMemberConfig.fenceMarginMs(ttlMs: Int64(member.config.leaseTTLms))
        return wall + (deadline - member.config.monotonicNow()) + margin
    }

    static func nodePosition(_ position: CopyPosition, role: NodeRoleName) -> NodePosition {
        NodePosition(
            generation: position.generation ?? "",
            txid: position.txid,
            checksum: position.checksum,
            role: OJSCluster.NodeRole(rawValue: role.rawValue)
        )
    }
}
