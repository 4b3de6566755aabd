import ArgumentParser
import OJSServer

/// How a node that follows a primary serves reads and forwards writes: shared by `replica`
/// and `node`. The defaults are `ServerConfiguration`'s, which say why.
struct ReplicaReadOptions: ParsableArguments {
    @Option(
        name: .customLong("consistency-wait-ms"),
        help: ArgumentHelp(
            "How long a read waits for this copy to reach its bookmark or staleness "
                + "bound before it is forwarded to the primary (env OJS_CONSISTENCY_WAIT_MS)."
        )
    )
    var consistencyWaitMs: Int = Env.int("OJS_CONSISTENCY_WAIT_MS") ?? Defaults.server.consistencyWaitMs

    @Option(name: .customLong("max-lag-ms"), help: "Lag past which health reports degraded (503) (env OJS_REPLICA_MAX_LAG_MS).")
    var maxLagMs: Int = Env.int("OJS_REPLICA_MAX_LAG_MS") ?? Defaults.server.replicaMaxLagMs

    @Option(
        name: .customLong("forward-pool-size"),
        help: "Connections to the primary for forwarded requests, apart from the replication stream's (env OJS_FORWARD_POOL_SIZE)."
    )
    var forwardPoolSize: Int = Env.int("OJS_FORWARD_POOL_SIZE") ?? Defaults.server.forwardPoolSize

    @Option(
        name: .customLong("forward-timeout-ms"),
        help:
            "How long a forwarded request waits for the primary's answer; past it the client gets 504 x_outcome_unknown (env OJS_FORWARD_TIMEOUT_MS)."
    )
    var forwardTimeoutMs: Int = Env.int("OJS_FORWARD_TIMEOUT_MS") ?? Defaults.server.forwardTimeoutMs

    func validate() throws {
        guard forwardPoolSize > 0 else { throw ValidationError("--forward-pool-size must be positive.") }
        guard forwardTimeoutMs > 0 else { throw ValidationError("--forward-timeout-ms must be positive.") }
    }

    func apply(to config: inout ServerConfiguration) {
        config.consistencyWaitMs = consistencyWaitMs
        config.replicaMaxLagMs = maxLagMs
        config.forwardPoolSize = forwardPoolSize
        config.forwardTimeoutMs = forwardTimeoutMs
    }
}
