/// How the HTTP server behaves (storage settings live in `StoreConfiguration`).
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Enables `POST /ojs/v1/admin/reset` and the heartbeat test directives. Never in production.
    public var testMode = false
    /// Largest request body accepted (413 past it).
    public var maxBodyBytes = 1 << 20
    /// Largest `POST /jobs/batch`.
    public var maxBatchSize = 10_000
    /// Scheduler tick; 0 disables the background scheduler (serverless mode).
    public var tickIntervalMs = 100
    public var version = "0.1.0"
    /// The OJS conformance level advertised in the manifest: only what passes.
    public var conformanceLevel = 4
    /// Extension suites advertised in the manifest: only those that pass (`docs/conformance.md`).
    public var extensions = ["dead-letter", "admin-api", "progress", "backpressure", "rate-limiting", "graceful-shutdown"]

    /// Required as `Authorization: Bearer …` on the replication endpoints when set.
    public var replicationKey: String?
    /// How long a replica holds a read whose bookmark (or staleness bound) it cannot meet yet,
    /// before forwarding it to the primary.
    public var consistencyWaitMs = 2000
    /// A replica whose lag passes this reports degraded health (503).
    public var replicaMaxLagMs = 10_000

    public init() {}
}
