import Logging

// TEMPORARY until the etcd branch lands: the adapter over OJSCluster's ClusterMember.
public final class EtcdCoordination: ClusterCoordination {
    public static let defaultLeaseTTLms = 3000
    public static let minimumLeaseTTLms = 2000
    public init(endpoints: [String], cluster: String, name: String, advertiseURL: String, leaseTTLms: Int, logger: Logger) {}
    public func join() async throws {}
    public func publish(role: NodeRoleName, position: CopyPosition) async throws {}
    public func observe() async throws -> ClusterObservation { ClusterObservation(leader: nil, nodes: []) }
    public func campaign(position: CopyPosition) async throws -> ClusterLeader? { nil }
    public func hasHistory() async throws -> Bool { false }
    public func markHistory() async throws {}
    public func resign() async {}
    public func leave() async {}
    public func mayCommit(nowMs: Int64) -> Bool { true }
    public func leaseExpiresAt() -> Int64? { nil }
}
