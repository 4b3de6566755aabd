import OJSCore

extension ClusterView.State {
    /// The `cluster` object of health and replication status on a failover node: which
    /// cluster, this node, the leader and its epoch, and when this node's lease would expire.
    ///
    ///     {"name":"jobs","node":"eu","role":"replica","leader":{"name":"us","url":"http://…","epoch":42},
    ///      "lease_expires_at":"2026-12-05T16:40:01.250Z","lease_remaining_ms":1750,…}
    func json(now: Int64) -> JSONValue {
        var o: JSONObject = [
            "name": .string(cluster), "node": .string(node), "advertise_url": .string(advertiseURL), "role": .string(role.rawValue),
            "promotions": .int(Int64(promotions)), "step_downs": .int(Int64(stepDowns)), "leader_changes": .int(Int64(leaderChanges)),
        ]
        o["leader"] = leader.map { ["name": .string($0.name), "url": .string($0.url), "epoch": .int($0.epoch)] } ?? .null
        o["epoch"] = leader.map { .int($0.epoch) } ?? .null
        o["lease_expires_at"] = leaseExpiresAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        o["lease_remaining_ms"] = leaseExpiresAt.map { .int(max(0, $0 - now)) } ?? .null
        o["detail"] = detail.map { .string($0) } ?? .null
        o["nodes"] = .array(
            nodes.map { n in
                [
                    "name": .string(n.name), "url": .string(n.url), "role": .string(n.role), "txid": .int(Int64(clamping: n.position.txid)),
                    "generation": n.position.generation.map { .string($0) } ?? .null,
                ]
            }
        )
        return .object(o)
    }
}
