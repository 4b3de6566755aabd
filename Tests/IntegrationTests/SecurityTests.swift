import Foundation
import Hummingbird
import Logging
import OJSReplication
import OJSServer
import OJSStore
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Closed by default, with real processes: start-up refusals, every route through a replica,
/// the push-target guard, and push secrets at rest (`docs/security.md`).
final class SecurityTests: XCTestCase {
    static let keys = ["OJS_API_KEY": "k1", "OJS_REPLICATION_KEY": "r1"]

    func testOffLoopbackTheServerNeedsAReplicationKeyToo() throws {
        let dir = NSTemporaryDirectory() + "ojs-refuse-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for command in [["serve"], ["replica", "--primary", "http://127.0.0.1:9", "--region", "eu"]] {
            let (status, text) = try Command.run(
                ServerProcess.binary,
                command + ["--host", "0.0.0.0", "--port", String(try ServerProcess.freePort()), "--data-dir", dir],
                capture: .standardError,
                timeout: 30,
                environment: ["OJS_API_KEY": "k1"]
            )
            XCTAssertEqual(status, 78, "\(command[0]): \(text)")
            XCTAssertTrue(text.contains("OJS_REPLICATION_KEY"), text)
        }
    }

    /// Every registered route's concrete path (parameters filled in), read off the primary's
    /// real router.
    static func routePaths() async throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-routes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Store(configuration: StoreConfiguration(path: dir.appendingPathComponent("ojs.db").path))
        defer { store.close() }
        let logger = Logger(label: "routes")
        let replication = try await ReplicationSource.attach(to: store, directory: dir.appendingPathComponent("replication"), logger: logger)
        let router = PrimaryServer.makeRouter(store: store, config: ServerConfiguration(), logger: logger, replication: replication)
        return Set(
            router.routes.map { route in
                route.path.description.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
                    segment.hasPrefix(":") ? (segment.contains("id") ? "019539a4-0000-7000-8000-000000000000" : "default") : String(segment)
                }.joined(separator: "/")
            }
        ).sorted()
    }

    /// Requests the primary counted, by route, leaving out replication and metrics (the
    /// replica's own stream and reports, and these reads themselves).
    static func primaryRequestCount(_ base: String) async throws -> Double {
        let url = URL(string: base + "/metrics")!
        var request = URLRequest(url: url)
        request.setValue("Bearer k1", forHTTPHeaderField: "Authorization")
        let (data, _) = try await HTTP.session.data(for: request)
        var total = 0.0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("ojs_http_requests_total{") {
            guard !line.contains("route=\"/ojs/v1/replication"), !line.contains("route=\"/metrics\""), let value = line.split(separator: " ").last
            else { continue }
            total += Double(value) ?? 0
        }
        return total
    }

    func testEveryRouteThroughAReplicaIsRefusedWithoutAKeyAndNothingIsForwarded() async throws {
        let cluster = try Cluster(primaryEnvironment: Self.keys)
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let replica = try await cluster.addReplica("eu", environment: Self.keys)
        let paths = try await Self.routePaths()
        XCTAssertGreaterThan(paths.count, 40)
        let before = try await Self.primaryRequestCount(cluster.primary.baseURL)
        var sent = 0
        for path in paths {
            let tail = String(path.dropFirst())
            let spellings = Set([
                path, "/" + path, path.replacingOccurrences(of: "/v1/", with: "//v1/"), path + "/", path + "?x=1", "/./" + tail, "/x/../" + tail,
                path.replacingOccurrences(of: "/ojs/", with: "/ojs%2F"), path.replacingOccurrences(of: "/ojs/", with: "/%2e/ojs/"), path.uppercased(),
            ])
            for spelling in spellings.sorted() {
                for method in ["GET", "POST", "PUT", "DELETE"] {
                    for auth in [[], ["Authorization: Bearer nope"]] {
                        let connection = try RawConnection(port: replica.port)
                        try connection.sendRequest(
                            method,
                            spelling,
                            headers: auth + ["Connection: close"],
                            body: method == "GET" ? "" : #"{"type":"x.y","args":[]}"#
                        )
                        let response = try XCTUnwrap(connection.readResponse(timeout: 10), "\(method) \(spelling): no answer")
                        sent += 1
                        let bare = spelling.split(separator: "?").first.map(String.init) ?? spelling
                        let open = ["/ojs/v1/health", "/ojs/manifest", "/ojs/dashboard", "/ojs/admin", "/ojs/admin/"].contains(bare)
                        if method == "GET" && (open || bare.hasPrefix("/ojs/admin/assets/")) { continue }
                        XCTAssertFalse(
                            (200..<300).contains(response.status),
                            "\(method) \(spelling) \(auth): \(response.status) \(response.body.prefix(200))"
                        )
                        XCTAssertFalse(response.head.lowercased().contains("ojs-served-by: primary"), "\(method) \(spelling) was forwarded")
                    }
                }
            }
        }
        let after = try await Self.primaryRequestCount(cluster.primary.baseURL)
        XCTAssertEqual(after, before, "the primary saw requests that the replica should have refused")
        print("replica access: \(sent) requests over \(paths.count) routes")
    }

    func testPushTargetsCannotBeInternalUnlessAllowlistedAtBindingAndAtDelivery() async throws {
        let function = PushFunction(secret: PushHarness.secret)
        try await function.start()
        addTeardownBlock { await function.stop() }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-ssrf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let port = URL(string: function.baseURL)?.port ?? 0
        let internalTargets = [
            function.baseURL + "/ok", "http://localhost:\(port)/ok", "http://127.1:\(port)/ok", "http://0x7f000001:\(port)/ok",
            "http://[::1]:\(port)/ok", "http://[::ffff:127.0.0.1]:\(port)/ok", "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/", "http://192.168.0.1/", "http://0.0.0.0:\(port)/ok", "https://[fd00:ec2::254]/",
        ]
        for base in [cluster.primary.baseURL, try XCTUnwrap(cluster.replicas["eu"]).baseURL] {
            for url in internalTargets {
                let r = try await HTTP.exchange(
                    "PUT",
                    base + "/ojs/v1/admin/push-endpoints/ssrf",
                    json: #"{"url":"\#(url)","secret":"\#(PushHarness.secret)"}"#
                )
                XCTAssertEqual(r.status, 400, "\(url) via \(base): \(r.json)")
                let error = r.json["error"] as? [String: Any]
                XCTAssertEqual((error?["details"] as? [String: Any])?["field"] as? String, "url", "\(url): \(r.json)")
            }
        }
        let bound = try await HTTP.exchange("GET", cluster.primary.baseURL + "/ojs/v1/admin/push-endpoints/ssrf")
        XCTAssertEqual(bound.status, 404, "no refused binding was stored")

        // Allowlisted, the example function can be bound; a restart without the allowlist
        // then refuses the delivery itself: the check runs again before every delivery.
        let allowed = try ServerProcess(dataDir: root, environment: PushHarness.allowLoopback)
        try await allowed.start()
        let bindIP = try await HTTP.exchange(
            "PUT",
            allowed.baseURL + "/ojs/v1/admin/push-endpoints/late-check",
            json: #"{"url":"\#(function.baseURL)/ok","secret":"\#(PushHarness.secret)"}"#
        )
        XCTAssertEqual(bindIP.status, 200, "\(bindIP.json)")
        allowed.terminate()
        let closed = try ServerProcess(dataDir: root)
        try await closed.start()
        defer { closed.terminate() }
        let pushed = try await HTTP.exchange(
            "POST",
            closed.baseURL + "/ojs/v1/jobs",
            json: #"{"type":"push.test","args":[1],"options":{"queue":"late-check"}}"#
        )
        let id = try XCTUnwrap((pushed.json["job"] as? [String: Any])?["id"] as? String)
        let endpoint = try await eventually("the endpoint is disabled at delivery", within: 10) { () -> [String: Any]? in
            let e = try await HTTP.exchange("GET", closed.baseURL + "/ojs/v1/admin/push-endpoints/late-check").json
            return e["state"] as? String == "disabled" ? e : nil
        }
        XCTAssertTrue((endpoint["state_reason"] as? String ?? "").contains("not an allowed push target"), "\(endpoint)")
        let job = try await HTTP.exchange("GET", closed.baseURL + "/ojs/v1/jobs/\(id)").json["job"] as? [String: Any]
        XCTAssertEqual(job?["state"] as? String, "available", "the job is released, not lost")
        XCTAssertTrue(function.hits.isEmpty, "nothing reached an internal address that is not allowlisted")
    }

    func testPushSecretsAreNeverStoredInPlaintextAndStillSignAfterARestart() async throws {
        let environment = PushHarness.allowLoopback.merging(Self.keys) { $1 }
        let cluster = try Cluster(primaryEnvironment: environment)
        defer { cluster.stop() }
        try await cluster.start(replicas: [])
        let replica = try await cluster.addReplica("eu", environment: Self.keys)
        let function = PushFunction(secret: PushHarness.secret)
        try await function.start()
        addTeardownBlock { await function.stop() }
        let auth = ["Authorization": "Bearer k1"]
        let bind = try await HTTP.exchange(
            "PUT",
            cluster.primary.baseURL + "/ojs/v1/admin/push-endpoints/signed",
            json: #"{"url":"\#(function.baseURL)/ok","secret":"\#(PushHarness.secret)"}"#,
            headers: auth
        )
        XCTAssertEqual(bind.status, 200, "\(bind.json)")
        func pushAndComplete(_ base: String) async throws -> String {
            let pushed = try await HTTP.exchange(
                "POST",
                base + "/ojs/v1/jobs",
                json: #"{"type":"push.test","args":[1],"options":{"queue":"signed"}}"#,
                headers: auth
            )
            let id = try XCTUnwrap((pushed.json["job"] as? [String: Any])?["id"] as? String, "\(pushed.json)")
            try await eventually("job \(id) completes", within: 10) {
                let job = try await HTTP.exchange("GET", base + "/ojs/v1/jobs/\(id)", headers: auth).json["job"] as? [String: Any]
                return job?["state"] as? String == "completed" ? true : nil
            }
            return id
        }
        let first = try await pushAndComplete(cluster.primary.baseURL)
        XCTAssertEqual(function.hits(job: first).first?.signatureValid, true)
        // Wait until the replica holds the binding, then look everywhere the secret could be.
        try await eventually("the replica has the binding", within: 10) {
            let r = try await HTTP.exchange("GET", replica.baseURL + "/ojs/v1/admin/push-endpoints/signed", headers: auth)
            return r.status == 200 ? true : nil
        }
        let snapshot = cluster.root.appendingPathComponent("snapshot.bin").path
        let (curl, _) = try Command.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            ["-sf", "-o", snapshot, "-H", "Authorization: Bearer r1", cluster.primary.baseURL + "/ojs/v1/replication/snapshot"]
        )
        XCTAssertEqual(curl, 0, "the snapshot downloads")
        let scanner = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/scan-for-secret").standardized
        let (found, report) = try Command.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", scanner.path, PushHarness.secret, cluster.root.path]
        )
        XCTAssertEqual(found, 0, "the secret is somewhere on disk or in the snapshot:\n\(report)")
        XCTAssertTrue(report.contains("not found"), report)
        // The scanner does find a secret that is there, compressed or not.
        let control = cluster.root.appendingPathComponent("control.bin")
        try Data(("x" + PushHarness.secret).utf8).write(to: control)
        let (controlFound, _) = try Command.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", scanner.path, PushHarness.secret, control.path])
        XCTAssertEqual(controlFound, 1)

        // After a restart the primary opens the secret with its key file and still signs.
        cluster.primary.terminate()
        try await cluster.primary.start()
        let second = try await pushAndComplete(cluster.primary.baseURL)
        XCTAssertEqual(function.hits(job: second).first?.signatureValid, true, "the restarted primary signs with the same secret")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cluster.primary.dataDir.appendingPathComponent("secret.key").path))
    }
}
