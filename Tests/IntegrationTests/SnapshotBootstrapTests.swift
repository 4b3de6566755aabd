import Foundation
import XCTest

/// Bootstrapping a replica from a streamed snapshot, as real processes: a download cut
/// midway resumes against the same image, and the replica ends equal to the primary.
final class SnapshotBootstrapTests: XCTestCase {
    func testAnInterruptedBootstrapResumesAndTheReplicaEqualsThePrimary() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        try await Self.fill(cluster.primary, batches: 40)
        let databaseBytes = try XCTUnwrap(
            try FileManager.default.attributesOfItem(atPath: cluster.primary.dataDir.appendingPathComponent("ojs.db").path)[.size] as? Int
        )
        XCTAssertGreaterThan(databaseBytes, 20 << 20, "the database is tens of MiB")

        // The first snapshot body is cut 4 MiB in: several chunks arrived, the rest did not.
        let proxy = try FaultProxy(upstreamPort: cluster.primary.port, marker: "/ojs/v1/replication/snapshot", fault: .cutBody(afterBytes: 4 << 20))
        try await cluster.addReplica("eu", primaryURL: "http://127.0.0.1:\(proxy.port)")
        XCTAssertEqual(proxy.faults, 1, "the download was interrupted once")

        // The digest endpoint hashes 30 MiB in Swift, past the test client's 10 s timeout in a
        // debug build; the sqlite3 CLI compares the same content (row counts and SHA3 of every
        // table) at one position in well under a second.
        let replicaDirectory = try XCTUnwrap(cluster.replicas["eu"]).dataDir
        let primaryFile = cluster.primary.dataDir.appendingPathComponent("ojs.db").path
        let replicaFile = replicaDirectory.appendingPathComponent("replica.db").path
        var compared = false
        for _ in 0..<100 where !compared {
            let copy = try Self.content(replicaFile)
            let primary = try Self.content(primaryFile)
            guard copy.first == primary.first else { continue }
            XCTAssertEqual(copy, primary, "row counts and content at txid \(primary.first ?? "?")")
            compared = true
        }
        XCTAssertTrue(compared, "the replica reached the primary's position")
        let metrics = try String(contentsOf: URL(string: cluster.primary.baseURL + "/metrics")!, encoding: .utf8)
        let images = metrics.split(separator: "\n").first { $0.hasPrefix("ojs_replication_snapshots_total ") }.flatMap {
            Double($0.split(separator: " ")[1])
        }
        XCTAssertEqual(images, 1, "one image was made: the second request resumed it instead of starting over")
        let check = try Command.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"),
            ["-readonly", replicaDirectory.appendingPathComponent("replica.db").path, "PRAGMA integrity_check"]
        )
        XCTAssertEqual(check.text.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: replicaDirectory.appendingPathComponent("snapshot.partial").path),
            "the download was consumed"
        )
    }

    /// Position, row counts and a SHA3 of every table's content, read-only.
    static func content(_ path: String) throws -> [String] {
        let tables = ["jobs", "events", "queues", "workers"]
        let counts = tables.map { "SELECT '\($0)', count(*) FROM \($0);" }.joined()
        let out = try Command.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"),
            ["-readonly", path, "SELECT txid FROM replication_position;" + counts, ".sha3sum"]
        )
        return out.text.split(separator: "\n").map(String.init)
    }

    /// A full disk during a re-bootstrap: a clear error, degraded health, and the old copy
    /// left as it was. The replica's data directory is a small tmpfs (needs root to mount;
    /// skipped elsewhere) with room for its copy but not for a second, downloaded one.
    func testAFullDiskDuringBootstrapLeavesTheOldCopyAndSaysSo() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-snapshot-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mounted = try Command.run(
            URL(fileURLWithPath: "/bin/mount"),
            ["-t", "tmpfs", "-o", "size=36m", "tmpfs", mountPoint.path],
            capture: .standardError
        )
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (\(mounted.text))") }
        addTeardownBlock {
            _ = try? Command.run(URL(fileURLWithPath: "/bin/umount"), ["-l", mountPoint.path])
            try? FileManager.default.removeItem(at: mountPoint)
        }
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        // The relay log keeps about 2 MiB (1 MiB segments), so the disk's budget is the copy's.
        let replica = try ServerProcess(
            dataDir: mountPoint.appendingPathComponent("data"),
            command: ["replica", "--primary", cluster.primary.baseURL, "--region", "full"],
            environment: ["OJS_REPLICATION_SEGMENT_KB": "1024", "OJS_REPLICATION_RETENTION_KB": "2048"]
        )
        try await replica.start()
        defer { replica.terminate() }
        // About 22 MiB, applied through the stream: the copy fits, a second one would not.
        try await Self.fill(cluster.primary, batches: 30)
        let target = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/replication/status").json["txid"] as? Int ?? 0
        try await Self.waitFor("the replica to apply txid \(target)") {
            (try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/replication/status").json["applied_txid"] as? Int ?? 0) >= target
        }
        let copyPath = mountPoint.appendingPathComponent("data/replica.db").path
        let copySize = try FileManager.default.attributesOfItem(atPath: copyPath)[.size] as? Int

        // The primary loses its replication log: a new history (generation) starts, and the
        // replica has to bootstrap again.
        cluster.primary.terminate()
        try FileManager.default.removeItem(at: cluster.primary.dataDir.appendingPathComponent("replication"))
        try await cluster.primary.start()

        var lastError = ""
        try await Self.waitFor("the replica to report the full disk") {
            lastError = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/replication/status").json["last_error"] as? String ?? ""
            return lastError.contains("disk full")
        }
        XCTAssertTrue(lastError.contains("needs"), "the error says how much space is needed: \(lastError)")
        let health = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/health")
        XCTAssertEqual(health.status, 503)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: copyPath)[.size] as? Int, copySize, "the old copy is untouched")
        let check = try Command.run(URL(fileURLWithPath: "/usr/bin/sqlite3"), ["-readonly", copyPath, "PRAGMA integrity_check"])
        XCTAssertEqual(check.text.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: mountPoint.appendingPathComponent("data").path).filter {
            $0.hasPrefix("snapshot.partial")
        }
        XCTAssertEqual(leftovers, [], "a download that cannot fit is not started")
    }

    /// `batches` × 200 jobs with 3.5 KB of barely compressible args (about 0.75 MiB each).
    static func fill(_ server: ServerProcess, batches: Int) async throws {
        var rng = SystemRandomNumberGenerator()
        for batch in 0..<batches {
            let jobs = (0..<200).map { i -> String in
                let noise = (0..<(3500 / 16)).map { _ in String(UInt64.random(in: 0 ... .max, using: &rng), radix: 16) }.joined()
                return #"{"type":"snapshot.fill","args":["\#(noise)",\#(batch),\#(i)],"options":{"queue":"fill"}}"#
            }
            let r = try await HTTP.exchange("POST", server.baseURL + "/ojs/v1/jobs/batch", json: #"{"jobs":[\#(jobs.joined(separator: ","))]}"#)
            XCTAssertEqual(r.status, 201, "batch \(batch): \(r.json)")
        }
    }

    /// Polls `condition` every 100 ms for up to `seconds`.
    static func waitFor(_ what: String, seconds: Double = 60, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out waiting for \(what)")
    }
}
