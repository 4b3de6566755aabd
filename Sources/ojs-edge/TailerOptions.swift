import OJSReplication

/// A replica's tailing settings from the environment, for `replica` and for `node` each time
/// it follows a leader. The defaults are `ReplicaTailer.Configuration`'s and
/// `ReconnectBackoff`'s, which say why.
enum TailerOptions {
    static func configuration(primaryURL: String, region: String, replicationKey: String?) -> ReplicaTailer.Configuration {
        var tailerConfig = ReplicaTailer.Configuration(primaryURL: primaryURL, region: region, replicationKey: replicationKey)
        tailerConfig.batchWindowMs = Env.int("OJS_REPLICA_BATCH_MS") ?? tailerConfig.batchWindowMs
        tailerConfig.backoff = ReconnectBackoff(
            initialMs: Env.int("OJS_REPLICA_BACKOFF_MS") ?? ReconnectBackoff.defaultInitialMs,
            maxMs: Env.int("OJS_REPLICA_MAX_BACKOFF_MS") ?? ReconnectBackoff.defaultMaxMs
        )
        tailerConfig.maxPendingBytes = (Env.int("OJS_REPLICA_PENDING_KB") ?? tailerConfig.maxPendingBytes >> 10) << 10
        return tailerConfig
    }
}
