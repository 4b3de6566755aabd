import Foundation
import OJSSimulation
import XCTest

/// Failover nodes (`ojs-edge node`) as real processes around a real etcd, in a temporary
/// directory. Each node's etcd URL may go through its own proxy, so a test can cut one node
/// off from etcd.
final class NodeCluster {
    let root: URL
    let etcd: EtcdProcess
    let cluster = "test"
    private(set) var nodes: [String: ServerProcess] = [:]
    private(set) var names: [String] = []

    /// Starts the etcd (the test is skipped when etcd is not installed, unless required).
    init() async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-nodes-\(UUID().uuidString)")
        etcd = try await EtcdProcess.start()
    }

    /// Adds (and starts) a node; `etcdURL` defaults to the etcd itself.
    @discardableResult
    func add(
        _ name: String,
        etcdURL: String? = nil,
        arguments: [String] = [],
        environment: [String: String] = [:]
    ) async throws
        -> ServerProcess
    {
        let node = try ServerProcess(
            dataDir: root.appendingPathComponent(name),
            command: ["node", "--etcd", etcdURL ?? etcd.endpoint, "--cluster", cluster, "--region", name],
            extraArguments: arguments,
            environment: environment
        )
        nodes[name] = node
        if !names.contains(name) { names.append(name) }
        try await node.start()
        return node
    }

    func node(_ name: String) throws -> ServerProcess {
        guard let node = nodes[name] else { throw TestFailure("no node \(name)") }
        return node
    }

    /// A node's replication status (answered by the node itself in every role).
    func status(_ name: String) async throws -> [String: Any] {
        try await HTTP.exchange("GET", try node(name).baseURL + "/ojs/v1/replication/status").json
    }

    /// The leader as a running node reports it, once that leader itself says it is the primary.
    func leader(among candidates: [String]? = nil) async throws -> String? {
        for name in candidates ?? names where nodes[name]?.process != nil {
            guard let s = try? await status(name), let cluster = s["cluster"] as? [String: Any],
                let leader = (cluster["leader"] as? [String: Any])?["name"] as? String, nodes[leader]?.process != nil
            else { continue }
            let own = try? await status(leader)
            if own?["role"] as? String == "primary" { return leader }
        }
        return nil
    }

    /// Waits for a serving leader other than `excluded`.
    func awaitLeader(excluding excluded: String? = nil, within seconds: TimeInterval = 20) async throws -> String {
        try await eventually("a leader other than \(excluded ?? "nobody") serves", within: seconds, every: .milliseconds(50)) {
            let live = names.filter { $0 != excluded && nodes[$0]?.process != nil }
            guard let leader = try await leader(among: live), leader != excluded else { return nil }
            return leader
        }
    }

    /// Waits until `name` is a replica that streams from the leader and serves reads.
    func awaitReplica(_ name: String, within seconds: TimeInterval = 30) async throws {
        try await eventually("\(name) follows the leader", within: seconds, every: .milliseconds(50)) {
            let s = try? await status(name)
            return s?["role"] as? String == "replica" && s?["state"] as? String == "streaming"
        }
    }

    /// The node's digest at the leader's current position (the bookmark makes a replica wait).
    func digest(_ name: String, atBookmarkOf leader: String) async throws -> [String: Any] {
        let head = try await HTTP.exchange("GET", try node(leader).baseURL + "/ojs/v1/health")
        guard let bookmark = head.headers["ojs-bookmark"] else { throw TestFailure("leader \(leader) sent no bookmark") }
        return try await eventually("\(name) reaches \(bookmark)", within: 30) {
            let r = try await HTTP.exchange("GET", try node(name).baseURL + "/ojs/v1/replication/digest", headers: ["OJS-Bookmark": bookmark])
            return r.status == 200 && (r.headers["ojs-served-by"] ?? "").hasSuffix("/\(name)") ? r.json : nil
        }
    }

    func stop() {
        for node in nodes.values { node.terminate(grace: 5) }
        etcd.stop()
        try? FileManager.default.removeItem(at: root)
    }
}
