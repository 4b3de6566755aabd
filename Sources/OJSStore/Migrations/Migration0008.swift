extension Migrations {
    /// The FIFO sequence's high-water mark, kept beside the replication position the writer
    /// already updates in every transaction. The writer used to find it at open with
    /// `max(seq)` over `jobs`, which no index serves: a full scan that made a cold start with
    /// 1,000,000 jobs take 0.6 s of reading 450 MB of pages (`docs/benchmarks.md`, "Cold
    /// start"). The upgrade pays that scan once.
    static let m0008 = Migration(
        name: "0008_sequence_mark.sql",
        sql: """
            ALTER TABLE replication_position ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
            UPDATE replication_position SET last_seq = (SELECT coalesce(max(seq), 0) FROM jobs) WHERE id = 1;
            """
    )
}
