extension Migrations {
    /// Idle expiry: workers, queues and rate-limit partitions nobody uses any more are deleted
    /// after the idle time (`StoreConfiguration.idleExpiryMs`). A queue has no last-used time,
    /// so the purge marks `idle_since` the first time it finds the queue without jobs, and any
    /// enqueue clears it. The indexes let the purges find old workers, partitions and settled
    /// push deliveries without reading the whole table.
    static let m0007 = Migration(
        name: "0007_idle_expiry.sql",
        sql: """
            ALTER TABLE queues ADD COLUMN idle_since INTEGER;
            CREATE INDEX workers_last_seen ON workers (last_seen_at);
            CREATE INDEX rate_limits_updated ON rate_limits (updated_at);
            CREATE INDEX push_deliveries_settled ON push_deliveries (settled_at) WHERE settled_at IS NOT NULL;
            """
    )
}
