import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OJSReplication
import OJSStore
import Synchronization
import XCTest

@testable import OJSServer

/// The failover node's decisions, one tick at a time, against an in-memory coordinator (the
/// etcd-backed runs are `FailoverTests`).
final class NodeRuntimeTests: XCTestCase {
    /// A coordinator whose answers the test sets, recording what the node asked of it.
    final class FakeCoordination: ClusterCoordination {
        struct State {
            var observation = ClusterObservation(leader: nil, nodes: [])
            var history = false
            var campaigns = 0
            var leads = true
            var published: [(NodeRoleName, CopyPosition)] = []
        }
        let state = Mutex(State())
        let leader = ClusterLeader(name: "a", url: "http://127.0.0.1:1", epoch: 7)

        func join() async throws {}
        func publish(role: NodeRoleName, position: CopyPosition) async throws { state.withLock { $0.published.append((role, position)) } }
        func observe() async throws -> ClusterObservation { state.withLock { $0.observation } }
        func campaign(position: CopyPosition) async throws -> ClusterLeader? {
            state.withLock { s in
                s.campaigns += 1
                s.observation.leader = leader
                return leader
            }
        }
        func hasHistory() async throws -> Bool { state.withLock { $0.history } }
        func markHistory() async throws { state.withLock { $0.history = true } }
        func resign() async { state.withLock { $0.observation.leader = nil } }
        func leave() async {}
        func mayCommit(nowMs: Int64) -> Bool { state.withLock { $0.leads } }
        func leaseExpiresAt() -> Int64? { nil }
    }

    var directory: URL!

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-runtime-\(UUID().uuidString)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeRuntime(name: String = "a", _ coordination: FakeCoordination) -> NodeRuntime {
        let data = NodeDataDirectory(url: directory)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let settings = NodeRuntime.Settings(
            name: name,
            advertiseURL: "http://127.0.0.1:1",
            directory: data,
            server: ServerConfiguration(),
            store: StoreConfiguration(path: data.databasePath),
            attachSource: { store, log in try await ReplicationSource.attach(to: store, directory: log, logger: Logger(label: "test")) },
            tailer: { url in ReplicaTailer.Configuration(primaryURL: url, region: name) }
        )
        return NodeRuntime(
            settings: settings,
            cluster: "test",
            coordination: coordination,
            forwardClient: HTTPClient.shared,
            logger: Logger(label: "test")
        )
    }

    func testAnEmptyNodeNeverFoundsAClusterThatHasAHistory() async throws {
        let coordination = FakeCoordination()
        coordination.state.withLock { $0.history = true }
        let runtime = makeRuntime(coordination)
        let role = await runtime.step(.none)
        guard case .none = role else { return XCTFail("an empty node took a role: \(role)") }
        XCTAssertEqual(coordination.state.withLock { $0.campaigns }, 0, "no campaign with an empty copy once the cluster has a history")
        XCTAssertEqual(runtime.view.current.detail, "no copy yet: waiting for a leader to bootstrap from")
    }

    func testALeaderKeyNamingThisNodeFromAnEarlierRunIsWaitedOutNotFollowed() async throws {
        let coordination = FakeCoordination()
        coordination.state.withLock { $0.observation.leader = ClusterLeader(name: "a", url: "http://127.0.0.1:1", epoch: 3) }
        let runtime = makeRuntime(coordination)
        let role = await runtime.step(.none)
        guard case .none = role else { return XCTFail("the node followed or replaced its own stale key: \(role)") }
        XCTAssertEqual(coordination.state.withLock { $0.campaigns }, 0)
    }

    func testTheFirstNodeFoundsTheClusterThenStepsDownWhenItsLeaseEnds() async throws {
        let coordination = FakeCoordination()
        let runtime = makeRuntime(coordination)
        let role = await runtime.step(.none)
        guard case .primary(let term) = role else { return XCTFail("the first node did not lead: \(role)") }
        XCTAssertEqual(coordination.state.withLock { $0.history }, true, "the first leader records the cluster's history")
        XCTAssertEqual(runtime.view.current.role, .primary)
        let written = try await term.store.writer?.write { ctx in try ctx.db.execute("CREATE TABLE IF NOT EXISTS probe(x)") }
        XCTAssertNotNil(written, "the leader commits while its lease holds")

        // The lease ends: the writer refuses at once, and the next tick steps down and demotes.
        coordination.state.withLock { $0.leads = false }
        do {
            try await term.store.writer?.write { ctx in try ctx.db.execute("INSERT INTO probe VALUES (1)") }
            XCTFail("a write committed after the lease ended")
        } catch StoreError.notPrimary {
        } catch {
            XCTFail("unexpected error \(error)")
        }
        let next = await runtime.step(role)
        guard case .none = next else { return XCTFail("the node kept a role after its lease ended: \(next)") }
        XCTAssertEqual(runtime.view.current.stepDowns, 1)
        XCTAssertEqual(NodeDataDirectory(url: directory).shape, .replica, "its database is now a replica's copy")
    }
}

extension NodeRuntimeTests {
    /// A failover node's event streams end when its role changes, so their clients reconnect
    /// to the node that serves now instead of following a store that stopped changing.
    func testAStepDownEndsTheLeadersEventStreams() async throws {
        let coordination = FakeCoordination()
        let runtime = makeRuntime(coordination)
        let role = await runtime.step(.none)
        guard case .primary(let term) = role else { return XCTFail("the first node did not lead: \(role)") }
        let feed = try XCTUnwrap(term.events)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = Application(responder: runtime.responder, logger: logger)
        try await app.test(.router) { client in
            async let streamed = client.execute(uri: "/ojs/v1/events/stream", method: .get) { response in
                (response.status, String(buffer: response.body))
            }
            // Awaited: the stream holds its slot from the moment it is admitted.
            let deadline = ContinuousClock.now + .seconds(5)
            while feed.streams == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            XCTAssertEqual(feed.streams, 1, "the stream never opened")
            coordination.state.withLock { $0.leads = false }
            let next = await runtime.step(role)
            guard case .none = next else { return XCTFail("the node kept a role after its lease ended: \(next)") }
            // The stream gives its slot back once its body ended (unawaited, a stream that
            // never ended would hang the test instead of failing it).
            let ended = ContinuousClock.now + .seconds(5)
            while feed.streams > 0, ContinuousClock.now < ended { try await Task.sleep(for: .milliseconds(10)) }
            guard feed.streams == 0 else { return XCTFail("the step-down left the event stream open") }
            let (status, body) = try await streamed
            XCTAssertEqual(status, .ok)
            XCTAssertTrue(body.hasPrefix("retry: 2000\n: connected\n\n"), body)
        }
    }
}
