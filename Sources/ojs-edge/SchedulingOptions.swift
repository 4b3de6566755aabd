import ArgumentParser
import OJSServer
import OJSStore

/// How time-driven work runs on the primary: the ticker or serverless mode, and how long
/// finished jobs are kept (`docs/serverless.md`).
struct SchedulingOptions: ParsableArguments {
    @Flag(
        name: .customLong("serverless"),
        help: "No background timers: the scheduler runs in fetches, job GETs and POST /ojs/v1/admin/tick, which a platform cron calls (env OJS_SERVERLESS=1).")
    var serverless = false

    /// The flag or the variable. ArgumentParser refuses a flag whose default is `true`, so the
    /// environment is read here rather than as the default.
    var isServerless: Bool { serverless || Env.bool("OJS_SERVERLESS") }

    @Option(
        name: .customLong("completed-retention-seconds"),
        help: "Delete completed jobs this long after they completed; 0 keeps them forever (env OJS_COMPLETED_RETENTION_SECONDS).")
    var completedRetentionSeconds: Int = Env.int("OJS_COMPLETED_RETENTION_SECONDS") ?? Self.seconds(Defaults.store.completedRetentionMs)

    @Option(
        name: .customLong("discarded-retention-seconds"),
        help: "Delete discarded and cancelled jobs this long after they ended; 0 keeps them forever. Dead letters are never purged (env OJS_DISCARDED_RETENTION_SECONDS).")
    var discardedRetentionSeconds: Int = Env.int("OJS_DISCARDED_RETENTION_SECONDS") ?? Self.seconds(Defaults.store.discardedRetentionMs)

    func validate() throws {
        guard completedRetentionSeconds >= 0 else { throw ValidationError("--completed-retention-seconds must not be negative.") }
        guard discardedRetentionSeconds >= 0 else { throw ValidationError("--discarded-retention-seconds must not be negative.") }
    }

    func apply(to config: inout ServerConfiguration, store: inout StoreConfiguration) {
        config.serverless = isServerless
        store.serverless = isServerless
        store.completedRetentionMs = Self.milliseconds(completedRetentionSeconds)
        store.discardedRetentionMs = Self.milliseconds(discardedRetentionSeconds)
    }

    /// 0 means "keep forever" (nil).
    static func milliseconds(_ seconds: Int) -> Int64? { seconds == 0 ? nil : Int64(seconds) * 1000 }

    /// The inverse, for a default: nil ("keep forever") is 0.
    static func seconds(_ milliseconds: Int64?) -> Int { milliseconds.map { Int($0 / 1000) } ?? 0 }
}
