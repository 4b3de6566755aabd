import Foundation
import Logging
import OJSCluster
import OJSReplication
import OJSStore

extension NodeRuntime {
    /// Becomes the leader after winning `won`: promotes a replica's copy in place (it keeps
    /// its generation and continues the txid sequence from its relay log), opens the writer
    /// with the lease as its commit gate, and serves the primary's routes. A failure resigns,
    /// so another node can take over.
    func startPrimary(_ won: ClusterLeader) async -> Role {
        view.update {
            $0.role = .candidate
            $0.detail = "promoting: won epoch \(won.epoch)"
        }
        responder.switchTo(transition)
        let directory = settings.directory
        var store: Store?
        do {
            if directory.shape == .replica {
                try CopyPromotion.promote(dataDirectory: directory.url, databaseName: NodeDataDirectory.databaseName)
            }
            var configuration = settings.store
            configuration.path = directory.databasePath
            let opened = try Store(configuration: configuration)
            store = opened
            let coordination = self.coordination
            opened.writer?.gate.install { coordination.mayCommit(nowMs: ClusterMemberConfig.systemMonotonicMs()) }
            let source = try await settings.attachSource(opened, directory.logDirectory)
            _ = try? await opened.resealPushSecrets()
            if try await !coordination.hasHistory() { try await coordination.markHistory() }
            let firstTxid = (opened.writer?.position.txid ?? 0) + 1
            directory.recordEpoch(won.epoch, firstTxid: firstTxid, now: Store.systemClock())
            let parts = PrimaryServer.makeParts(
                store: opened,
                config: settings.server,
                logger: logger,
                replication: source,
                metrics: metrics,
                cluster: view
            )
            let term = PrimaryTerm(leader: won, store: opened, source: source, services: parts.services, events: parts.events)
            responder.switchTo(parts.router.buildResponder())
            view.update {
                $0.role = .primary
                $0.promotions += 1
                $0.detail = nil
            }
            logger.notice(
                "this node leads the cluster",
                metadata: [
                    "epoch": .stringConvertible(won.epoch), "first_txid": .stringConvertible(firstTxid),
                    "generation": .string(source.log.generation.text),
                ]
            )
            return .primary(term)
        } catch {
            logger.error("promotion failed; giving the leadership up", metadata: ["error": .string("\(error)")])
            store?.close()
            await coordination.resign()
            view.update { $0.detail = "promotion failed: \(error)" }
            return .none
        }
    }

    /// Stops leading: the gate is already shut (or shuts now), the services and streams stop,
    /// the key is given up, and the database is turned back into a replica's copy, which the
    /// next leader checks before this node serves anything from it.
    func stepDown(_ term: PrimaryTerm, reason: String) async -> Role {
        logger.warning("stepping down", metadata: ["reason": .string(reason), "epoch": .stringConvertible(term.leader.epoch)])
        view.update {
            $0.role = .candidate
            $0.stepDowns += 1
            $0.detail = "stepped down: \(reason)"
        }
        responder.switchTo(transition)
        await term.stop(logger: logger)
        await coordination.resign()
        do {
            if try CopyPromotion.demote(dataDirectory: settings.directory.url, databaseName: NodeDataDirectory.databaseName) == nil {
                logger.warning("the database holds a commit its log does not: this node will bootstrap from the leader")
            }
        } catch {
            logger.error("could not turn the database into a replica copy; it will bootstrap", metadata: ["error": .string("\(error)")])
        }
        return .none
    }

    /// Follows `leader`: a primary's database is first demoted, and its copy stays unverified
    /// (reads are forwarded) until the leader has accepted its position, since it may end in
    /// transactions that never reached the new leader. Without a copy the term bootstraps
    /// first; the responder switches once the copy can serve.
    func startReplica(following leader: ClusterLeader) -> Role {
        view.update {
            $0.role = .candidate
            $0.detail = "joining \(leader.name) at \(leader.url)"
        }
        responder.switchTo(transition)
        let directory = settings.directory
        var unverified = false
        do {
            if directory.shape == .primary {
                let demoted = try CopyPromotion.demote(dataDirectory: directory.url, databaseName: NodeDataDirectory.databaseName)
                // nil: the database holds a commit its log never captured (the process died
                // between the two), which no other node can have: the node bootstraps.
                unverified = demoted != nil
                if demoted == nil {
                    logger.warning("the database holds a commit its replication log never captured: this node will bootstrap from the leader")
                }
            }
        } catch {
            logger.error("could not turn the database into a replica copy", metadata: ["error": .string("\(error)")])
            view.update { $0.detail = "cannot demote the database: \(error)" }
            return .none
        }
        let applier: ReplicaApplier
        do {
            applier = try ReplicaApplier(dataDirectory: directory.url, databaseName: NodeDataDirectory.databaseName, relayLog: settings.relayLimits)
        } catch {
            logger.error("cannot open the replica copy", metadata: ["error": .string("\(error)")])
            view.update { $0.detail = "cannot open the replica copy: \(error)" }
            return .none
        }
        let tailer = ReplicaTailer(
            configuration: settings.tailer(leader.url),
            applier: applier,
            client: .shared,
            logger: logger,
            clock: Store.systemClock
        )
        if unverified { tailer.diverged.withLock { $0 = true } }
        let term = ReplicaTerm(leader: leader, tailer: tailer)
        term.start { [self] term in await follow(term, leader: leader) }
        return .replica(term)
    }

    /// The replica term's task: bootstrap if there is no copy, open the store, serve, tail.
    private func follow(_ term: ReplicaTerm, leader: ClusterLeader) async {
        let tailer = term.tailer
        do {
            try await tailer.prepare()
        } catch {
            return
        }
        var configuration = settings.store
        configuration.path = settings.directory.databasePath
        let store: Store
        do {
            store = try Store(replicaConfiguration: configuration, gate: tailer.applier.lock)
        } catch {
            logger.error("cannot open the replica copy for reads", metadata: ["error": .string("\(error)")])
            return
        }
        let events = ReplicaServer.makeEventFeed(store: store, tailer: tailer, config: settings.server, logger: logger)
        let router = ReplicaServer.makeRouter(
            store: store,
            tailer: tailer,
            region: settings.name,
            primaryURL: leader.url,
            forwardClient: forwardClient,
            config: settings.server,
            logger: logger,
            metrics: metrics,
            cluster: view,
            events: events
        )
        let installed = term.activate(store: store) {
            responder.switchTo(router.buildResponder())
            view.update {
                $0.role = .replica
                $0.detail = nil
            }
        }
        guard installed else {
            store.close()
            return
        }
        logger.notice("following the leader", metadata: ["leader": .string(leader.name), "url": .string(leader.url)])
        // Both end when the term stops (its task is cancelled): the feed then ends its
        // streams, so their clients reconnect to whichever node serves now.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await events.run() }
            await tailer.run()
            group.cancelAll()
        }
    }
}
