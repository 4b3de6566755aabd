extension Migrations {
    /// Remembers each cron entry's last job, so the overlap policy checks one row instead of
    /// searching job documents.
    static let m0002 = Migration(
        name: "0002_cron_last_job.sql",
        sql: """
            ALTER TABLE crons ADD COLUMN last_job_id TEXT;
            """
    )
}
