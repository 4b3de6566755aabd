import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import OJSCluster
import OJSReplication
import OJSStore
import Synchronization

/// A failover node (`ojs-edge node`): the cluster's primary while it holds the leader lease,
/// a replica of the current leader otherwise (`docs/failover.md`). One task runs the state
/// machine below every `pollMs`; the HTTP server stays up throughout and serves whichever
/// role is current through `responder`.
///
///     none ──leader elsewhere──▶ replica ──leader key gone, won campaign──▶ primary
///       │ ◀──────────────── lease lost / key taken (demote) ───────────────────┘
///       └──no leader, won campaign──▶ primary
///
/// Each tick the node publishes its role and position, reads the leader key, and:
/// - as primary, steps down as soon as its lease no longer lets it commit (the writer's gate
///   refuses already) or the key names someone else;
/// - as replica, follows a new leader, or campaigns when the key is gone;
/// - between roles, joins the leader, or campaigns (a node with no copy only founds a
///   cluster that never had a leader, so an empty machine can never replace a history).
public final class NodeRuntime: Sendable {
    public struct Settings: Sendable {
        public var name: String
        public var advertiseURL: String
        public var directory: NodeDataDirectory
        public var server: ServerConfiguration
        /// The store settings of both roles (the path is the directory's database).
        public var store: StoreConfiguration
        /// Opens a primary store's replication log in the directory given.
        public var attachSource: @Sendable (Store, URL) async throws -> ReplicationSource
        /// The tailer settings for following the leader at a URL.
        public var tailer: @Sendable (String) -> ReplicaTailer.Configuration
        /// The relay log's bounds while following (the primary's retention, so a promoted copy
        /// serves as much history as its leader did).
        public var relayLimits = RelayLogLimits()
        /// How often the node publishes its position and reads the leader key: 100 ms lets a
        /// replica notice a vanished leader key within a tenth of the 2 s minimum lease, at
        /// two small etcd requests per tick.
        public var pollMs = 100

        public init(
            name: String,
            advertiseURL: String,
            directory: NodeDataDirectory,
            server: ServerConfiguration,
            store: StoreConfiguration,
            attachSource: @escaping @Sendable (Store, URL) async throws -> ReplicationSource,
            tailer: @escaping @Sendable (String) -> ReplicaTailer.Configuration
        ) {
            self.name = name
            self.advertiseURL = advertiseURL
            self.directory = directory
            self.server = server
            self.store = store
            self.attachSource = attachSource
            self.tailer = tailer
        }
    }

    enum Role: Sendable {
        case none
        case primary(PrimaryTerm)
        case replica(ReplicaTerm)
    }

    public let responder: SwitchableResponder
    public let view: ClusterView
    let settings: Settings
    let coordination: any ClusterCoordination
    let logger: Logger
    let metrics = OJSMetrics()
    let forwardClient: HTTPClient
    let transition: RouterResponder<OJSRequestContext>

    public init(settings: Settings, cluster: String, coordination: any ClusterCoordination, forwardClient: HTTPClient, logger: Logger) {
        self.settings = settings
        self.coordination = coordination
        self.forwardClient = forwardClient
        self.logger = logger
        let view = ClusterView(cluster: cluster, node: settings.name, advertiseURL: settings.advertiseURL)
        self.view = view
        transition = TransitionRouter.make(config: settings.server, logger: logger, metrics: metrics, cluster: view).buildResponder()
        responder = SwitchableResponder(initial: transition)
    }

    /// Runs the node until cancelled, then steps down and leaves the cluster.
    public func run() async {
        await join()
        var role = Role.none
        while !Task.isCancelled {
            role = await step(role)
            try? await Task.sleep(for: .milliseconds(settings.pollMs))
        }
        responder.switchTo(transition)
        switch role {
        case .primary(let term):
            await term.stop(logger: logger)
            await coordination.resign()
        case .replica(let term): await term.stop()
        case .none: break
        }
        await coordination.leave()
    }

    /// Takes the lease, retrying while etcd is unreachable.
    private func join() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await coordination.join()
                return
            } catch {
                attempt += 1
                view.update { $0.detail = "cannot reach the coordinator: \(error)" }
                if attempt == 1 { logger.warning("cannot join the cluster yet; retrying", metadata: ["error": .string("\(error)")]) }
                try? await Task.sleep(for: .milliseconds(min(2000, 100 * attempt)))
            }
        }
    }

    func roleName(_ role: Role) -> NodeRoleName {
        switch role {
        case .none: return .candidate
        case .primary: return .primary
        case .replica(let term): return term.hasCopy ? .replica : .candidate
        }
    }

    func position(_ role: Role) -> CopyPosition {
        switch role {
        case .none: return settings.directory.position()
        case .primary(let term): return term.position
        case .replica(let term): return term.position
        }
    }

    /// One tick of the state machine; returns the role to continue with.
    func step(_ role: Role) async -> Role {
        let position = position(role)
        try? await coordination.publish(role: roleName(role), position: position)
        // nil: the coordinator could not be asked (keep the present role until the lease says otherwise).
        let observation = try? await coordination.observe()
        let known: ClusterLeader?? = observation.map { $0.leader }
        note(observation)
        switch role {
        case .primary(let term):
            if !coordination.mayCommit(nowMs: ClusterMemberConfig.systemMonotonicMs()) {
                return await stepDown(term, reason: "its lease can no longer be renewed in time")
            }
            if case .some(let leader) = known, leader?.name != settings.name || leader?.epoch != term.leader.epoch {
                return await stepDown(term, reason: "the leader key names \(leader?.name ?? "nobody")")
            }
            return role
        case .replica(let term):
            guard case .some(let leader) = known else { return role }
            if let leader {
                if leader.name == settings.name { return role }
                if leader != term.leader {
                    await term.stop()
                    return startReplica(following: leader)
                }
                return role
            }
            guard term.hasCopy, let won = await campaign(position) else { return role }
            await term.stop()
            return await startPrimary(won)
        case .none:
            guard case .some(let leader) = known else { return role }
            if let leader {
                if leader.name == settings.name {
                    view.update { $0.detail = "waiting for the lease of this node's previous run to expire" }
                    return role
                }
                return startReplica(following: leader)
            }
            if settings.directory.shape == .empty {
                guard (try? await coordination.hasHistory()) == false else {
                    view.update { $0.detail = "no copy yet: waiting for a leader to bootstrap from" }
                    return role
                }
            }
            guard let won = await campaign(position) else { return role }
            return await startPrimary(won)
        }
    }

    private func campaign(_ position: CopyPosition) async -> ClusterLeader? {
        do {
            return try await coordination.campaign(position: position)
        } catch {
            logger.warning("campaign failed", metadata: ["error": .string("\(error)")])
            return nil
        }
    }

    /// Keeps the view's leader and nodes current and counts leader changes.
    private func note(_ observation: ClusterObservation?) {
        let expires = coordination.leaseExpiresAt()
        view.update { v in
            v.leaseExpiresAt = expires
            guard let observation else { return }
            if let leader = observation.leader, leader != v.leader { v.leaderChanges += 1 }
            v.leader = observation.leader
            v.nodes = observation.nodes
        }
    }
}
