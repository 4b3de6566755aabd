/// The `cluster` object of a failover node's replication status, as `ojs-edge status` shows
/// it: the cluster, its leader and epoch, and every live node with its role.
public struct ClusterSummary: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public var name: String
        public var role: String
        public var url: String
        public var txid: Int64

        public init(name: String, role: String, url: String, txid: Int64) {
            self.name = name
            self.role = role
            self.url = url
            self.txid = txid
        }
    }

    public var name: String
    public var leader: String?
    public var leaderURL: String?
    public var epoch: Int64?
    public var nodes: [Node]

    public init(name: String, leader: String?, leaderURL: String?, epoch: Int64?, nodes: [Node]) {
        self.name = name
        self.leader = leader
        self.leaderURL = leaderURL
        self.epoch = epoch
        self.nodes = nodes
    }

    /// Reads `status["cluster"]`; nil for a node that is not part of a failover cluster.
    ///
    ///     ClusterSummary(status: ["cluster": ["name": "jobs", "leader": ["name": "us", "url": "http://…", "epoch": 7], "nodes": […]]])
    public init?(status: JSONValue) {
        guard let c = status["cluster"], let name = c["name"]?.stringValue else { return nil }
        self.name = name
        leader = c["leader"]?["name"]?.stringValue
        leaderURL = c["leader"]?["url"]?.stringValue
        epoch = c["leader"]?["epoch"]?.intValue
        nodes = (c["nodes"]?.arrayValue ?? []).map { n in
            Node(
                name: n["name"]?.stringValue ?? "?",
                role: n["role"]?.stringValue ?? "?",
                url: n["url"]?.stringValue ?? "",
                txid: n["txid"]?.intValue ?? 0
            )
        }
    }

    /// The lines above the replica table.
    func render() -> [String] {
        var lines = ["cluster \(name)  leader \(leader ?? "(none)")  epoch \(epoch.map(String.init) ?? "-")", ""]
        lines.append(StatusReport.row(["NODE", "ROLE", "TXID", "URL"], widths: [14, 11, 12, 40]))
        for n in nodes {
            lines.append(StatusReport.row([n.name, n.role, String(n.txid), n.url], widths: [14, 11, 12, 40]))
        }
        lines.append("")
        return lines
    }

    /// A cluster without a leader takes no writes.
    func alerts() -> [String] {
        leader == nil ? ["cluster \(name) has no leader"] : []
    }
}
