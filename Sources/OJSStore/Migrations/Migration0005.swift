extension Migrations {
    /// Push delivery: queues bound to function URLs, with each endpoint's limits and health
    /// (circuit, token bucket, 429 back-off) kept here so the admin API on any node shows
    /// them and a restart keeps them; every delivery made (the receipts log); and on each job
    /// the delivery id that may still settle it — a receipt naming any other id is refused.
    static let m0005 = Migration(
        name: "0005_push_delivery.sql",
        sql: """
            CREATE TABLE push_endpoints (
              queue TEXT PRIMARY KEY NOT NULL,
              url TEXT NOT NULL,
              secret TEXT NOT NULL,
              concurrency INTEGER NOT NULL CHECK (concurrency > 0),
              rate_per_second REAL CHECK (rate_per_second IS NULL OR rate_per_second > 0),
              burst INTEGER NOT NULL DEFAULT 1 CHECK (burst > 0),
              timeout_ms INTEGER NOT NULL CHECK (timeout_ms > 0),
              receipt_timeout_ms INTEGER NOT NULL CHECK (receipt_timeout_ms >= timeout_ms),
              failure_threshold INTEGER NOT NULL CHECK (failure_threshold > 0),
              cooldown_ms INTEGER NOT NULL CHECK (cooldown_ms > 0),
              state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'open', 'half_open', 'disabled')),
              state_reason TEXT,
              state_changed_at INTEGER NOT NULL,
              consecutive_failures INTEGER NOT NULL DEFAULT 0,
              opened_at INTEGER,
              tokens REAL,
              tokens_at INTEGER,
              throttled_until INTEGER,
              throttle_streak INTEGER NOT NULL DEFAULT 0,
              created_at INTEGER NOT NULL,
              updated_at INTEGER NOT NULL
            );
            CREATE TABLE push_deliveries (
              id TEXT PRIMARY KEY NOT NULL,
              job_id TEXT NOT NULL,
              queue TEXT NOT NULL,
              attempt INTEGER NOT NULL,
              started_at INTEGER NOT NULL,
              answered_at INTEGER,
              settled_at INTEGER,
              outcome TEXT,
              http_status INTEGER,
              detail TEXT
            );
            CREATE INDEX push_deliveries_queue ON push_deliveries (queue, started_at);
            CREATE INDEX push_deliveries_job ON push_deliveries (job_id, started_at);
            ALTER TABLE jobs ADD COLUMN delivery_id TEXT;
            CREATE INDEX jobs_push_in_flight ON jobs (queue) WHERE state = 'active' AND delivery_id IS NOT NULL;
            """
    )
}
