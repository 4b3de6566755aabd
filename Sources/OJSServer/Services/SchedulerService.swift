import Logging
import OJSReplication
import OJSStore
import ServiceLifecycle

/// Runs the store's time-driven work every tick: promotions, expiry, reservation reclaim,
/// execution timeouts, cron; the replication log's batched fsync once writes stop; and, every
/// second, the log's retention and a WAL checkpoint if the WAL is still large.
/// Stops at graceful shutdown.
struct SchedulerService: Service {
    let store: Store
    let intervalMs: Int
    let logger: Logger
    let replication: ReplicationSource?

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var ticks = 0
            while !Task.isCancelled {
                do {
                    try await store.tick()
                    ticks += 1
                    try replication?.log.syncIfDue()
                    if ticks % max(1, 1000 / max(1, intervalMs)) == 0 {
                        if let replication { try replication.log.applyRetention(now: store.clock()) }
                        // A quiet primary still shrinks a WAL that a reader held large.
                        await store.writer?.checkpointIfIdleWALIsLarge()
                    }
                } catch StoreError.notPrimary {
                    // A failover node whose lease ended: it is stepping down, and the next
                    // leader's scheduler takes over.
                    logger.debug("scheduler tick refused: this node no longer leads")
                } catch {
                    logger.error("scheduler tick failed", metadata: ["error": .string("\(error)")])
                }
                try? await Task.sleep(for: .milliseconds(intervalMs))
            }
        }
    }
}
