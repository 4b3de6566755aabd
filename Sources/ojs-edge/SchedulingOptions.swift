import ArgumentParser
import OJSServer
import OJSStore

/// How time-driven work runs on the primary: the ticker or serverless mode, how long finished
/// jobs, events and idle registry rows are kept (`docs/serverless.md`, `docs/operations.md`),
/// and when a stuck writer turns health degraded.
struct SchedulingOptions: ParsableArguments {
    @Flag(
        name: .customLong("serverless"),
        help: ArgumentHelp(
            "No background timers: the scheduler runs in fetches, job GETs and POST "
                + "/ojs/v1/admin/tick, which a platform cron calls (env OJS_SERVERLESS=1)."
        )
    )
    var serverless = false

    /// The flag or the variable. ArgumentParser refuses a flag whose default is `true`, so the
    /// environment is read here rather than as the default.
    var isServerless: Bool { serverless || Env.bool("OJS_SERVERLESS") }

    @Option(
        name: .customLong("completed-retention-seconds"),
        help: "Delete completed jobs this long after they completed; 0 keeps them forever (env OJS_COMPLETED_RETENTION_SECONDS)."
    )
    var completedRetentionSeconds: Int = Env.int("OJS_COMPLETED_RETENTION_SECONDS") ?? Self.seconds(Defaults.store.completedRetentionMs)

    @Option(
        name: .customLong("discarded-retention-seconds"),
        help: ArgumentHelp(
            "Delete discarded and cancelled jobs this long after they ended; 0 keeps them "
                + "forever. Dead letters are never purged (env OJS_DISCARDED_RETENTION_SECONDS)."
        )
    )
    var discardedRetentionSeconds: Int = Env.int("OJS_DISCARDED_RETENTION_SECONDS") ?? Self.seconds(Defaults.store.discardedRetentionMs)

    @Option(
        name: .customLong("event-retention-seconds"),
        help: ArgumentHelp(
            "Delete events (GET /ojs/v1/events) and settled push-delivery records this "
                + "long after they happened (env OJS_EVENT_RETENTION_SECONDS; default 1 hour)."
        )
    )
    var eventRetentionSeconds: Int = Env.int("OJS_EVENT_RETENTION_SECONDS") ?? Int(StoreConfiguration.defaultEventRetentionMs / 1000)

    @Option(
        name: .customLong("idle-expiry-seconds"),
        help: ArgumentHelp(
            "Delete workers not seen, queues without jobs and rate-limit partitions unused for "
                + "this long; 0 keeps them forever (env OJS_IDLE_EXPIRY_SECONDS; default 24 hours)."
        )
    )
    var idleExpirySeconds: Int = Env.int("OJS_IDLE_EXPIRY_SECONDS") ?? 86_400

    @Option(
        name: .customLong("writer-stall-seconds"),
        help: ArgumentHelp(
            "Health answers 503 degraded when writes wait and the writer has finished "
                + "no transaction for this long (env OJS_WRITER_STALL_SECONDS; default 10)."
        )
    )
    var writerStallSeconds: Int = Env.int("OJS_WRITER_STALL_SECONDS") ?? 10

    func validate() throws {
        guard completedRetentionSeconds >= 0 else { throw ValidationError("--completed-retention-seconds must not be negative.") }
        guard discardedRetentionSeconds >= 0 else { throw ValidationError("--discarded-retention-seconds must not be negative.") }
        guard eventRetentionSeconds > 0 else { throw ValidationError("--event-retention-seconds must be positive.") }
        guard idleExpirySeconds >= 0 else { throw ValidationError("--idle-expiry-seconds must not be negative.") }
        guard writerStallSeconds > 0 else { throw ValidationError("--writer-stall-seconds must be positive.") }
    }

    func apply(to config: inout ServerConfiguration, store: inout StoreConfiguration) {
        config.serverless = isServerless
        store.serverless = isServerless
        store.completedRetentionMs = Self.milliseconds(completedRetentionSeconds)
        store.discardedRetentionMs = Self.milliseconds(discardedRetentionSeconds)
        store.eventRetentionMs = Int64(eventRetentionSeconds) * 1000
        store.idleExpiryMs = Self.milliseconds(idleExpirySeconds)
        config.writerStallMs = writerStallSeconds * 1000
    }

    /// 0 means "keep forever" (nil).
    static func milliseconds(_ seconds: Int) -> Int64? { seconds == 0 ? nil : Int64(seconds) * 1000 }

    /// The inverse, for a default: nil ("keep forever") is 0.
    static func seconds(_ milliseconds: Int64?) -> Int { milliseconds.map { Int($0 / 1000) } ?? 0 }
}
