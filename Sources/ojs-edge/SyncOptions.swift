import ArgumentParser
import OJSReplication
import OJSServer

/// Synchronous replicas, for `serve` (and any command that runs a primary): how many replicas
/// must durably hold a write before it is answered, how long to wait for them, and whether to
/// answer anyway when they do not (`docs/replication-protocol.md`, *Synchronous replicas*).
/// Defaults come from `SyncPolicy`.
struct SyncOptions: ParsableArguments {
    @Option(
        name: .customLong("sync-replicas"),
        help: ArgumentHelp(
            "Answer a write only after this many replicas (distinct regions) durably received it; 0 answers "
                + "after the local commit (env OJS_SYNC_REPLICAS).",
            valueName: "n"
        )
    )
    var syncReplicas: Int = Env.int("OJS_SYNC_REPLICAS") ?? Defaults.server.sync.replicas

    @Option(
        name: .customLong("sync-timeout-ms"),
        help: ArgumentHelp(
            "How long a write waits for its replicas' acknowledgements before 503 x_sync_timeout (env OJS_SYNC_TIMEOUT_MS).",
            valueName: "ms"
        )
    )
    var syncTimeoutMs: Int = Env.int("OJS_SYNC_TIMEOUT_MS") ?? Defaults.server.sync.timeoutMs

    @Flag(
        name: .customLong("sync-degrade"),
        help: "When the replicas do not acknowledge in time, answer the write anyway (counted, ojs_sync_degraded 1) (env OJS_SYNC_DEGRADE=1)."
    )
    var syncDegradeFlag = false

    /// The flag or the variable (a flag cannot default to `true`, see `Serve.testMode`).
    var syncDegrade: Bool { syncDegradeFlag || Env.bool("OJS_SYNC_DEGRADE") }

    func validate() throws {
        guard syncReplicas >= 0 else { throw ValidationError("--sync-replicas must be 0 or more.") }
        guard syncReplicas <= ReplicaRegistry.capacity else {
            throw ValidationError("--sync-replicas cannot exceed \(ReplicaRegistry.capacity), the most replicas a primary serves.")
        }
        guard syncTimeoutMs > 0 else { throw ValidationError("--sync-timeout-ms must be positive.") }
    }

    func apply(to config: inout ServerConfiguration) {
        config.sync = SyncPolicy(replicas: syncReplicas, timeoutMs: syncTimeoutMs, degrade: syncDegrade)
    }
}
