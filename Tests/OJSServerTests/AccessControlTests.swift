import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OJSCore
import OJSReplication
import OJSServer
import OJSStore
import XCTest

/// Closed by default: every registered route, spelled every way a client or an attacker
/// might, with every method, without a key or with a wrong one, is refused, and nothing
/// reaches the writer.
final class AccessControlTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-access-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// The primary with an API key and a replication key, its replication source attached so
    /// the replication routes are registered too; `body` gets the client, the registered
    /// routes and the store.
    func withKeyedPrimary(
        _ body: @Sendable (any TestClientProtocol, [String], Store) async throws -> Void
    ) async throws {
        let store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path))
        defer { store.close() }
        var logger = Logger(label: "access")
        logger.logLevel = .critical
        let replication = try await ReplicationSource.attach(to: store, directory: directory.appendingPathComponent("replication"), logger: logger)
        var config = ServerConfiguration()
        config.testMode = true
        config.tickIntervalMs = 0
        config.apiKeys = ["k1", "k2"]
        config.replicationKeys = ["r1", "r0"]
        let router = PrimaryServer.makeRouter(store: store, config: config, logger: logger, replication: replication)
        let routes = router.routes.map(Self.concrete)
        let app = Application(router: router, logger: logger)
        try await app.test(.router) { client in try await body(client, routes, store) }
    }

    /// A concrete path for a route pattern: each `:parameter` becomes a plausible value.
    static func concrete(_ route: Router<OJSRequestContext>.RouteDescription) -> String {
        route.path.description.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.hasPrefix(":") || segment.hasPrefix("{") else { return String(segment) }
            return segment.contains("id") ? "019539a4-0000-7000-8000-000000000000" : "default"
        }.joined(separator: "/")
    }

    /// Every spelling of `path` a router might take for it, or that would once have slipped
    /// past a prefix check.
    static func spellings(of path: String) -> [String] {
        let tail = String(path.dropFirst())
        var out = [
            path, "/" + path, path.replacingOccurrences(of: "/v1/", with: "//v1/"), path + "/", path + "//", path + "?x=1",
            "/./" + tail, "/ojs/../" + tail, "/x/../" + tail, path.replacingOccurrences(of: "/ojs/", with: "/ojs/./"),
            path.replacingOccurrences(of: "/ojs/", with: "/ojs%2F"), path.replacingOccurrences(of: "/ojs/", with: "/%2e/ojs/"),
            path.replacingOccurrences(of: "/ojs/", with: "/ojs/%2e%2e/ojs/"), path.replacingOccurrences(of: "/v1/", with: "/%76%31/"),
            path.replacingOccurrences(of: "/ojs/", with: "/ojs%5C"), path.uppercased(), path.replacingOccurrences(of: "/ojs/", with: "/OJS/"),
        ]
        out.append(path.replacingOccurrences(of: "/ojs/", with: "/ojs%252F"))
        return Array(Set(out)).sorted()
    }

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch]
    static let credentials: [(String, HTTPFields)] = [
        ("no key", [:]),
        ("a wrong key", [.authorization: "Bearer nope"]),
        ("an empty bearer", [.authorization: "Bearer "]),
        ("a key with the wrong scheme", [.authorization: "Basic k1"]),
        ("a key with a suffix", [.authorization: "Bearer k1x"]),
        ("a lowercase scheme", [.authorization: "bearer nope"]),
        ("a prefix of the key", [.authorization: "Bearer k"]),
    ]

    /// What the allowlist lets through without a key: exactly these GETs (and HEADs).
    static func isAllowlisted(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        let bare = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let open = ["/ojs/v1/health", "/ojs/manifest", "/ojs/dashboard", "/ojs/admin", "/ojs/admin/"].contains(bare)
        let consoleFile = bare.hasPrefix("/ojs/admin/assets/") && !bare.dropFirst("/ojs/admin/assets/".count).contains("/")
        return (method == .get || method == .head) && (open || consoleFile)
    }

    func testEveryRouteSpellingAndMethodIsRefusedWithoutTheKeyAndNothingIsWritten() async throws {
        try await withKeyedPrimary { client, routes, store in
            XCTAssertGreaterThan(routes.count, 40, "the enumeration sees the router's routes")
            let before = store.writer?.position.txid
            var sent = 0
            var open = 0
            for path in Set(routes).sorted() {
                for spelling in Self.spellings(of: path) {
                    for method in Self.methods {
                        for (label, headers) in Self.credentials {
                            var headers = headers
                            headers[.contentType] = "application/openjobspec+json"
                            let response = try await client.execute(
                                uri: spelling,
                                method: method,
                                headers: headers,
                                body: method == .get || method == .head
                                    ? nil
                                    : ByteBuffer(string: #"{"type":"x.y","args":[],"queues":["default"],"url":"http://127.0.0.1:9/","secret":"s"}"#)
                            )
                            sent += 1
                            if Self.isAllowlisted(method, spelling) {
                                open += 1
                                continue
                            }
                            XCTAssertFalse(
                                (200..<300).contains(response.status.code),
                                "\(method) \(spelling) with \(label) answered \(response.status.code): \(String(buffer: response.body).prefix(200))"
                            )
                            XCTAssertLessThan(response.status.code, 500, "\(method) \(spelling) with \(label)")
                            if method != .head {
                                XCTAssertNotNil(
                                    try? TestApp.json(response)["error"]?["code"]?.stringValue,
                                    "\(method) \(spelling): no OJS error body"
                                )
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(store.writer?.position.txid, before, "a refused request reached the writer")
            XCTAssertGreaterThan(open, 0)
            print("access: \(sent) requests over \(routes.count) routes, \(open) to the allowlist")
        }
    }

    func testNonCanonicalPathsAreRefusedEvenWithTheKey() async throws {
        try await withKeyedPrimary { client, _, store in
            for spelling in [
                "//ojs/v1/jobs", "/ojs//v1/jobs", "/ojs/v1/jobs/", "/ojs/./v1/jobs", "/ojs/x/../v1/jobs", "/ojs%2Fv1/jobs", "/ojs/v1/%2e/jobs",
            ] {
                let response = try await client.execute(
                    uri: spelling,
                    method: .post,
                    headers: [.authorization: "Bearer k1", .contentType: "application/openjobspec+json"],
                    body: ByteBuffer(string: #"{"type":"x.y","args":[]}"#)
                )
                XCTAssertEqual(response.status, .badRequest, spelling)
                XCTAssertEqual(try TestApp.json(response)["error"]?["code"], "invalid_request", spelling)
            }
            let depth = try await store.queue("default").counts.depth
            XCTAssertEqual(depth, 0, "nothing was pushed")
            let pushed = try await client.execute(
                uri: "/ojs/v1/jobs",
                method: .post,
                headers: [.authorization: "Bearer k2", .contentType: "application/openjobspec+json"],
                body: ByteBuffer(string: #"{"type":"x.y","args":[]}"#)
            )
            XCTAssertEqual(pushed.status, .created, "the canonical path with a key works")
        }
    }

    func testReplicationEndpointsNeedTheReplicationKey() async throws {
        try await withKeyedPrimary { client, _, _ in
            let paths: [(HTTPRequest.Method, String)] = [
                (.get, "/ojs/v1/replication/snapshot"), (.get, "/ojs/v1/replication/stream?after=0"), (.get, "/ojs/v1/replication/digest"),
                (.post, "/ojs/v1/replication/replicas/eu/position"),
            ]
            for (method, path) in paths {
                for key in ["", "k1", "nope"] {
                    let response = try await client.execute(
                        uri: path,
                        method: method,
                        headers: key.isEmpty ? [:] : [.authorization: "Bearer \(key)"],
                        body: method == .post ? ByteBuffer(string: #"{"applied_txid":1}"#) : nil
                    )
                    XCTAssertEqual(response.status, .unauthorized, "\(path) with key '\(key)': an API key is not the replication key")
                }
            }
            for key in ["r1", "r0"] {
                let digest = try await client.execute(uri: "/ojs/v1/replication/digest", method: .get, headers: [.authorization: "Bearer \(key)"])
                XCTAssertEqual(digest.status, .ok, "every listed replication key opens replication (rotation)")
            }
            let report = try await client.execute(
                uri: "/ojs/v1/replication/replicas/eu/position",
                method: .post,
                headers: [.authorization: "Bearer r1", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"applied_txid":1}"#)
            )
            XCTAssertEqual(report.status, .conflict, "a position report without an open stream is refused")
            for key in ["r1", "k1"] {
                let status = try await client.execute(uri: "/ojs/v1/replication/status", method: .get, headers: [.authorization: "Bearer \(key)"])
                XCTAssertEqual(status.status, .ok, "status takes the replication key or an API key")
            }
            let anonymous = try await client.execute(uri: "/ojs/v1/replication/status", method: .get)
            XCTAssertEqual(anonymous.status, .unauthorized)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            XCTAssertEqual(metrics.status, .unauthorized, "metrics are not on the allowlist")
        }
    }

    func testAPIKeysWithoutAReplicationKeyCloseReplication() async throws {
        try await TestApp.run(directory: directory, configure: { $0.apiKeys = ["k1"] }) { client in
            let response = try await client.execute(uri: "/ojs/v1/replication/digest", method: .get, headers: [.authorization: "Bearer k1"])
            XCTAssertEqual(response.status, .unauthorized)
        }
    }

    func testAReplicationKeyAloneClosesReplicationButNotTheAPI() async throws {
        try await TestApp.run(directory: directory, configure: { $0.replicationKeys = ["r1"] }) { client in
            let pushed = try await client.execute(
                uri: "/ojs/v1/jobs",
                method: .post,
                headers: [.contentType: "application/openjobspec+json"],
                body: ByteBuffer(string: #"{"type":"x.y","args":[]}"#)
            )
            XCTAssertEqual(pushed.status, .created)
            let digest = try await client.execute(uri: "/ojs/v1/replication/digest", method: .get)
            XCTAssertEqual(digest.status, .unauthorized)
        }
    }

    func testWithoutAnyKeyEverythingIsOpenButPathsMustStillBeCanonical() async throws {
        try await TestApp.run(directory: directory) { client in
            let health = try await client.execute(uri: "/ojs/v1/health", method: .get)
            XCTAssertEqual(health.status, .ok)
            let doubled = try await client.execute(uri: "/ojs//v1/health", method: .get)
            XCTAssertEqual(doubled.status, .badRequest)
        }
    }

    func testCanonicalPathRules() {
        for good in ["/", "/ojs/v1/jobs", "/ojs/v1/workers/w%20one/health", "/ojs/v1/cron/a.b-c", "/ojs/v1/jobs?x=1", "/ojs/admin/"] {
            XCTAssertNil(CanonicalPath.problem(good.split(separator: "?").first.map(String.init) ?? good), good)
        }
        let bad: [(String, String)] = [
            ("ojs/v1", "start"), ("//ojs", "empty"), ("/ojs//v1", "empty"), ("/ojs/", "empty"), ("/ojs/./v1", "'.'"), ("/ojs/../v1", "'.'"),
            ("/ojs%2fv1", "'/'"), ("/ojs/%2E%2E/v1", "'.'"), ("/ojs%5cv1", "backslash"), ("/ojs\\v1", "backslash"), ("/ojs%252f", "'%'"),
            ("/ojs%00", "control"), ("/ojs%zz", "malformed"), ("/ojs%2", "malformed"),
            // Only the console's root may end in '/': not its neighbours, not a doubled one.
            ("/ojs/admin//", "empty"), ("/ojs/admin/assets/", "empty"), ("/ojs/v1/admin/", "empty"), ("//ojs/admin/", "empty"),
        ]
        for (path, why) in bad {
            let problem = CanonicalPath.problem(path)
            XCTAssertNotNil(problem, path)
            XCTAssertTrue(problem?.contains(why) == true, "\(path): \(problem ?? "nil")")
        }
    }

    func testAccessPolicyAllowlistIsExactlyHealthManifestAndTheConsoleShell() {
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/v1/health"), .none)
        XCTAssertEqual(AccessPolicy.requirement(method: .head, path: "/ojs/manifest"), .none)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/dashboard"), .none)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/admin/"), .none)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/admin/assets/core.js"), .none)
        // The console's data is not open: only its files are.
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/admin/assets/x/y"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/admin/assets/"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .post, path: "/ojs/admin/"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/v1/admin/overview"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/v1/events/stream"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .post, path: "/ojs/v1/health"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/v1/healthz"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/metrics"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/anything"), .apiKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/v1/replication/snapshot"), .replicationKey)
        XCTAssertEqual(AccessPolicy.requirement(method: .get, path: "/ojs/v1/replication/status"), .replicationOrAPIKey)
    }
}
