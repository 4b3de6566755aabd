import Logging
import OJSStore
import ServiceLifecycle

/// Runs the store's time-driven work every tick: promotions, expiry, reservation reclaim,
/// execution timeouts, cron. Stops at graceful shutdown.
struct SchedulerService: Service {
    let store: Store
    let intervalMs: Int
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await store.tick()
                } catch {
                    logger.error("scheduler tick failed", metadata: ["error": .string("\(error)")])
                }
                try? await Task.sleep(for: .milliseconds(intervalMs))
            }
        }
    }
}
