extension Migrations {
    /// Retention: the purge deletes the oldest finished jobs of each kind first, a bounded
    /// batch per pass. These partial indexes hold only purgeable rows (dead letters are never
    /// purged, so they are left out), so a pass reads exactly the rows it deletes.
    static let m0006 = Migration(
        name: "0006_retention.sql",
        sql: """
            CREATE INDEX jobs_purge_completed ON jobs (completed_at) WHERE state = 'completed';
            CREATE INDEX jobs_purge_discarded ON jobs (discarded_at) WHERE state = 'discarded' AND dead_lettered_at IS NULL;
            CREATE INDEX jobs_purge_cancelled ON jobs (cancelled_at) WHERE state = 'cancelled';
            CREATE INDEX workflows_finished ON workflows (finished_at) WHERE state != 'running';
            """
    )
}
