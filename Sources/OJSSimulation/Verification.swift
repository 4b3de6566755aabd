import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// The end-of-run checks against the primary and the replicas, once the workload stopped
/// and every fault has healed.
struct Verification {
    let client: HTTPClient
    let primaryURL: String
    /// Region name → the replica's own URL (not through the client link).
    let replicaURLs: [String: String]

    /// Every job a producer was told about (201) must exist on the primary.
    func lostJobs(_ ids: [String]) async -> [String] {
        var lost: [String] = []
        var index = 0
        // A few requests at a time: thousands of jobs, one loopback primary.
        while index < ids.count {
            let chunk = ids[index..<min(index + 16, ids.count)]
            index += chunk.count
            let missing = await withTaskGroup(of: String?.self) { group -> [String] in
                for id in chunk { group.addTask { await exists(id) ? nil : id } }
                var out: [String] = []
                for await m in group { if let m { out.append(m) } }
                return out
            }
            lost += missing
        }
        return lost
    }

    private func exists(_ id: String) async -> Bool {
        for _ in 0..<5 {
            if let r = try? await client.exchange(.GET, primaryURL + "/ojs/v1/jobs/\(id)") {
                if r.status == 200 { return true }
                if r.status == 404 { return false }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    struct Comparison {
        var txid: Int
        var identical: Bool
    }

    /// The primary's digest and the replica's at one position. The replica is asked with the
    /// primary's bookmark so it waits for its copy; an answer relayed from the primary (it
    /// gave up waiting) is asked again, and so is a pair at two positions (the primary's
    /// scheduler may commit between the two reads).
    func compare(region: String, deadline: ContinuousClock.Instant) async -> Comparison? {
        guard let replica = replicaURLs[region] else { return nil }
        while ContinuousClock.now < deadline {
            guard let health = try? await client.exchange(.GET, primaryURL + "/ojs/v1/health"), let bookmark = health.bookmark,
                let copy = try? await client.exchange(.GET, replica + "/ojs/v1/replication/digest", bookmark: bookmark),
                copy.status == 200, copy.servedBy == "replica/\(region)",
                let primary = try? await client.exchange(.GET, primaryURL + "/ojs/v1/replication/digest")
            else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            let c = copy.json
            let p = primary.json
            if let t = c["txid"] as? Int, t == p["txid"] as? Int {
                return Comparison(txid: t, identical: (c["sha256"] as? String) != nil && c["sha256"] as? String == p["sha256"] as? String)
            }
        }
        return nil
    }
}
