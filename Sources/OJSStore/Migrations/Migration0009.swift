extension Migrations {
    /// The event log in one b-tree instead of four. Every job change writes an event in the
    /// same transaction, and each event row also updated the `id` column's unique index, the
    /// `time` index and `sqlite_sequence` (AUTOINCREMENT): 8 of the 20 pages a single-push
    /// commit wrote, each of them read from the WAL and compressed again by replication
    /// capture. An event's id is now its sequence number (`evt_<seq>`, `EventLog.id`), so a
    /// cursor needs no index of its own; retention walks the log from its oldest end by `seq`
    /// instead of by `time`, and always keeps the newest event, so a sequence number is never
    /// handed out twice (which AUTOINCREMENT guaranteed before).
    ///
    /// Cursors taken before the upgrade (`evt_<uuid>`) no longer name an event; such a
    /// cursor reads the log from its start, as any unknown cursor always did.
    static let m0009 = Migration(
        name: "0009_compact_event_log.sql",
        sql: """
            CREATE TABLE events_compact (
              seq INTEGER PRIMARY KEY,
              type TEXT NOT NULL,
              subject TEXT,
              queue TEXT,
              job_type TEXT,
              time INTEGER NOT NULL,
              data TEXT NOT NULL
            );
            INSERT INTO events_compact (seq, type, subject, queue, job_type, time, data)
              SELECT seq, type, subject, queue, job_type, time, data FROM events ORDER BY seq;
            DROP TABLE events;
            ALTER TABLE events_compact RENAME TO events;
            DELETE FROM sqlite_sequence WHERE name = 'events';
            """
    )
}
