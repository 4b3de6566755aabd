extension Migrations {
    /// The level 0–4 schema. Plain SQLite that Cloudflare D1 accepts: no PRAGMA, no
    /// extensions. Times are Unix milliseconds; JSON documents are TEXT.
    static let m0001 = Migration(
        name: "0001_initial.sql",
        sql: """
            -- Jobs: lifecycle fields are columns (queries filter and sort on them); the
            -- immutable envelope (args, meta, options echo, unknown fields) is the JSON `doc`.
            CREATE TABLE jobs (
              id TEXT PRIMARY KEY NOT NULL,
              type TEXT NOT NULL,
              queue TEXT NOT NULL,
              state TEXT NOT NULL CHECK (state IN ('scheduled','available','pending','active','completed','retryable','cancelled','discarded')),
              priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN -100 AND 100),
              seq INTEGER NOT NULL DEFAULT 0,
              attempt INTEGER NOT NULL DEFAULT 0,
              max_attempts INTEGER NOT NULL DEFAULT 3,
              created_at INTEGER NOT NULL,
              enqueued_at INTEGER,
              run_at INTEGER,
              expires_at INTEGER,
              started_at INTEGER,
              completed_at INTEGER,
              cancelled_at INTEGER,
              discarded_at INTEGER,
              next_attempt_at INTEGER,
              retry_delay_ms INTEGER,
              visible_until INTEGER,
              timeout_ms INTEGER,
              timeout_at INTEGER,
              visibility_timeout_ms INTEGER,
              worker_id TEXT,
              unique_key TEXT,
              rate_key TEXT,
              workflow_id TEXT,
              workflow_step INTEGER,
              dead_lettered_at INTEGER,
              error TEXT,
              errors TEXT,
              result TEXT,
              parent_results TEXT,
              doc TEXT NOT NULL
            );
            -- Claim order: the partial index matches the claim's ORDER BY exactly.
            CREATE INDEX jobs_claim ON jobs (queue, priority DESC, seq) WHERE state = 'available';
            CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN ('scheduled', 'retryable');
            CREATE INDEX jobs_reservation ON jobs (visible_until) WHERE state = 'active';
            CREATE INDEX jobs_deadline ON jobs (timeout_at) WHERE state = 'active' AND timeout_at IS NOT NULL;
            CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE expires_at IS NOT NULL AND state IN ('available', 'scheduled', 'pending');
            CREATE INDEX jobs_queue_state ON jobs (queue, state);
            CREATE INDEX jobs_unique ON jobs (unique_key, created_at) WHERE unique_key IS NOT NULL;
            CREATE INDEX jobs_workflow ON jobs (workflow_id, workflow_step) WHERE workflow_id IS NOT NULL;
            CREATE INDEX jobs_dead_letter ON jobs (dead_lettered_at) WHERE dead_lettered_at IS NOT NULL;
            CREATE INDEX jobs_rate_key ON jobs (rate_key, state) WHERE rate_key IS NOT NULL;
            CREATE INDEX jobs_finished ON jobs (completed_at) WHERE completed_at IS NOT NULL;

            CREATE TABLE events (
              seq INTEGER PRIMARY KEY AUTOINCREMENT,
              id TEXT NOT NULL UNIQUE,
              type TEXT NOT NULL,
              subject TEXT,
              queue TEXT,
              job_type TEXT,
              time INTEGER NOT NULL,
              data TEXT NOT NULL
            );
            CREATE INDEX events_time ON events (time);

            CREATE TABLE queues (
              name TEXT PRIMARY KEY NOT NULL,
              paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
              paused_at INTEGER,
              created_at INTEGER NOT NULL,
              rate_max_per_second INTEGER,
              rate_window_start INTEGER,
              rate_window_count INTEGER NOT NULL DEFAULT 0,
              max_depth INTEGER,
              backpressure_strategy TEXT,
              warning_threshold REAL
            );

            CREATE TABLE workers (
              id TEXT PRIMARY KEY NOT NULL,
              state TEXT NOT NULL DEFAULT 'running',
              directive TEXT,
              first_seen_at INTEGER NOT NULL,
              last_seen_at INTEGER NOT NULL,
              active_jobs INTEGER NOT NULL DEFAULT 0,
              info TEXT
            );

            CREATE TABLE workflows (
              id TEXT PRIMARY KEY NOT NULL,
              type TEXT NOT NULL CHECK (type IN ('chain', 'group', 'batch', 'dag')),
              name TEXT,
              state TEXT NOT NULL,
              total INTEGER NOT NULL,
              completed INTEGER NOT NULL DEFAULT 0,
              failed INTEGER NOT NULL DEFAULT 0,
              cancelled INTEGER NOT NULL DEFAULT 0,
              steps TEXT NOT NULL,
              callbacks TEXT,
              callbacks_fired INTEGER NOT NULL DEFAULT 0,
              created_at INTEGER NOT NULL,
              finished_at INTEGER,
              cancelled_at INTEGER,
              doc TEXT NOT NULL
            );

            CREATE TABLE crons (
              name TEXT PRIMARY KEY NOT NULL,
              expression TEXT NOT NULL,
              timezone TEXT NOT NULL DEFAULT 'UTC',
              overlap_policy TEXT NOT NULL DEFAULT 'skip',
              enabled INTEGER NOT NULL DEFAULT 1,
              job_template TEXT NOT NULL,
              description TEXT,
              next_run_at INTEGER,
              last_run_at INTEGER,
              run_count INTEGER NOT NULL DEFAULT 0,
              created_at INTEGER NOT NULL,
              updated_at INTEGER NOT NULL
            );
            CREATE INDEX crons_next_run ON crons (next_run_at) WHERE enabled = 1;

            CREATE TABLE rate_limits (
              key TEXT PRIMARY KEY NOT NULL,
              concurrency INTEGER,
              rate_limit INTEGER,
              rate_period_ms INTEGER,
              window_start INTEGER,
              window_count INTEGER NOT NULL DEFAULT 0,
              on_limit TEXT NOT NULL DEFAULT 'wait',
              updated_at INTEGER NOT NULL
            );

            CREATE TABLE job_progress (
              job_id TEXT PRIMARY KEY NOT NULL,
              progress REAL,
              message TEXT,
              data TEXT,
              updated_at INTEGER NOT NULL
            );
            """
    )
}
