import Foundation
import OJSSimulation
import XCTest

/// A primary and replicas as real processes in a temporary directory.
final class Cluster {
    let root: URL
    let primary: ServerProcess
    var replicas: [String: ServerProcess] = [:]

    init(primaryEnvironment: [String: String] = [:]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-cluster-\(UUID().uuidString)")
        primary = try ServerProcess(dataDir: root.appendingPathComponent("primary"), environment: primaryEnvironment)
    }

    func start(replicas regions: [String]) async throws {
        try await primary.start()
        for region in regions { try await addReplica(region) }
    }

    @discardableResult
    func addReplica(_ region: String, primaryURL: String? = nil, environment: [String: String] = [:]) async throws -> ServerProcess {
        let replica = try ServerProcess(
            dataDir: root.appendingPathComponent("replica-\(region)"),
            command: ["replica", "--primary", primaryURL ?? primary.baseURL, "--region", region],
            extraArguments: ["--consistency-wait-ms", "3000"],
            environment: environment
        )
        try await replica.start()
        replicas[region] = replica
        return replica
    }

    func stop() {
        for r in replicas.values { r.terminate() }
        primary.terminate()
        try? FileManager.default.removeItem(at: root)
    }

    /// The primary's current bookmark.
    func primaryBookmark() async throws -> String {
        let r = try await HTTP.exchange("GET", primary.baseURL + "/ojs/v1/health")
        guard let b = r.headers["ojs-bookmark"] else { throw TestFailure("primary sent no bookmark: \(r.status) \(r.headers) \(r.json)") }
        return b
    }

    /// The replica's digest once it has caught up with the primary's current position. The
    /// bookmark makes the replica wait for its copy; an answer relayed from the primary
    /// (the replica gave up waiting) is asked again.
    func caughtUpDigest(_ region: String, attempts: Int = 20) async throws -> [String: Any] {
        guard let replica = replicas[region] else { throw TestFailure("no replica \(region)") }
        let bookmark = try await primaryBookmark()
        for _ in 0..<attempts {
            let r = try await HTTP.exchange(
                "GET",
                replica.baseURL + "/ojs/v1/replication/digest",
                headers: Self.replicationAuth(replica).merging(["OJS-Bookmark": bookmark]) { $1 }
            )
            if r.status == 200, r.headers["ojs-served-by"] == "replica/\(region)" { return r.json }
        }
        throw TestFailure("replica \(region) did not catch up to \(bookmark)")
    }

    func primaryDigest() async throws -> [String: Any] {
        try await HTTP.exchange("GET", primary.baseURL + "/ojs/v1/replication/digest", headers: Self.replicationAuth(primary)).json
    }

    /// The digest is a replication endpoint: with a replication key set, it needs it.
    static func replicationAuth(_ process: ServerProcess) -> [String: String] {
        guard let key = process.environment["OJS_REPLICATION_KEY"]?.split(separator: ",").first else { return [:] }
        return ["Authorization": "Bearer \(key)"]
    }

    /// The primary's digest and the replica's at the same txid. The primary's scheduler may
    /// commit between the two reads (a retry becoming due), so this asks again until both
    /// describe one position.
    func digestsAtOnePosition(_ region: String, attempts: Int = 50) async throws -> (primary: [String: Any], replica: [String: Any]) {
        for _ in 0..<attempts {
            let replica = try await caughtUpDigest(region)
            let primary = try await primaryDigest()
            if let t = replica["txid"] as? Int, t == primary["txid"] as? Int { return (primary, replica) }
        }
        throw TestFailure("no common position between the primary and \(region)")
    }
}

/// A deterministic mix of everything that writes: pushes, batches, fetches with acks and
/// nacks, cron and workflow changes, sent to `base` (the primary or a replica, which forwards).
enum Workload {
    static func mixed(base: String, operations: Int, seed: UInt64) async throws -> [String] {
        var rng = SplitMix(seed)
        var pushed: [String] = []
        for i in 0..<operations {
            switch rng.next() % 10 {
            case 0, 1, 2:
                let r = try await HTTP.exchange(
                    "POST",
                    base + "/ojs/v1/jobs",
                    json: #"{"type":"mix.single","args":[\#(i)],"options":{"queue":"mix"}}"#
                )
                if let id = (r.json["job"] as? [String: Any])?["id"] as? String { pushed.append(id) }
            case 3:
                let n = Int(rng.next() % 30) + 1
                let jobs = (0..<n).map { #"{"type":"mix.batch","args":[\#(i),\#($0)],"options":{"queue":"mix","priority":\#($0 % 5)}}"# }
                let r = try await HTTP.exchange("POST", base + "/ojs/v1/jobs/batch", json: #"{"jobs":[\#(jobs.joined(separator: ","))]}"#)
                for job in r.json["jobs"] as? [[String: Any]] ?? [] { if let id = job["id"] as? String { pushed.append(id) } }
            case 4, 5, 6:
                let r = try await HTTP.exchange(
                    "POST",
                    base + "/ojs/v1/workers/fetch",
                    json: #"{"queues":["mix"],"count":\#(rng.next() % 4 + 1),"worker_id":"w\#(i % 3)"}"#
                )
                for job in r.json["jobs"] as? [[String: Any]] ?? [] {
                    guard let id = job["id"] as? String else { continue }
                    if rng.next() % 4 == 0 {
                        _ = try await HTTP.exchange(
                            "POST",
                            base + "/ojs/v1/workers/nack",
                            json: #"{"job_id":"\#(id)","error":{"code":"x","message":"no"}}"#
                        )
                    } else {
                        _ = try await HTTP.exchange("POST", base + "/ojs/v1/workers/ack", json: #"{"job_id":"\#(id)","result":{"i":\#(i)}}"#)
                    }
                }
            case 7:
                _ = try await HTTP.exchange(
                    "POST",
                    base + "/ojs/v1/cron",
                    json: #"{"name":"mix-\#(i % 4)","expression":"*/5 * * * *","job_template":{"type":"mix.cron","args":[]}}"#
                )
                if rng.next() % 2 == 0 { _ = try await HTTP.exchange("DELETE", base + "/ojs/v1/cron/mix-\((i + 1) % 4)") }
            case 8:
                let r = try await HTTP.exchange(
                    "POST",
                    base + "/ojs/v1/workflows",
                    json:
                        #"{"type":"chain","steps":[{"type":"mix.a","args":[],"options":{"queue":"mix"}},{"type":"mix.b","args":[],"options":{"queue":"mix"}}]}"#
                )
                if rng.next() % 3 == 0, let id = (r.json["workflow"] as? [String: Any])?["id"] as? String {
                    _ = try await HTTP.exchange("DELETE", base + "/ojs/v1/workflows/\(id)")
                }
            default:
                _ = try await HTTP.exchange("POST", base + "/ojs/v1/queues/mix-\(i % 2)/\(rng.next() % 2 == 0 ? "pause" : "resume")")
            }
        }
        return pushed
    }
}
