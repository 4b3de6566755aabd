import Logging
import OJSReplication
import OJSStore
import ServiceLifecycle

/// One term of this node as the cluster's leader: the writable store, its replication source
/// and the services that run beside a primary (scheduler, push deliveries). Built by
/// `NodeRuntime` when the node wins an election, stopped when it steps down.
final class PrimaryTerm: Sendable {
    let leader: ClusterLeader
    let store: Store
    let source: ReplicationSource
    /// The term's event streams' feed (also among `services`).
    let events: EventFeed?
    private let services: Task<Void, Never>

    init(leader: ClusterLeader, store: Store, source: ReplicationSource, services: [any Service], events: EventFeed? = nil) {
        self.leader = leader
        self.store = store
        self.source = source
        self.events = events
        self.services = Task {
            await withTaskGroup(of: Void.self) { group in
                for service in services { group.addTask { try? await service.run() } }
            }
        }
    }

    /// Where this leader's history stands: what it publishes for elections.
    var position: CopyPosition {
        let log = source.log.stats
        return CopyPosition(generation: log.generation.text, txid: log.lastTxid, checksum: log.lastChecksum)
    }

    /// Stops committing first (the gate), then the services, the streams and the store. The
    /// log is synced so the records of every commit are on disk before the copy is demoted.
    func stop(logger: Logger) async {
        store.writer?.gate.close()
        // Event streams end first: their clients reconnect to whichever node leads next.
        events?.close()
        services.cancel()
        await services.value
        source.retire()
        do {
            try source.log.sync()
        } catch {
            logger.error("replication log sync at step-down failed", metadata: ["error": .string("\(error)")])
        }
        store.close()
    }
}
