extension Migrations {
    /// The database's own replication position: bumped by the writer in every transaction that
    /// changes anything, so the position is part of the data it describes. A snapshot, a
    /// replica's copy and a bookmark all read it from the same consistent state.
    static let m0003 = Migration(
        name: "0003_replication_position.sql",
        sql: """
            CREATE TABLE replication_position (
              id INTEGER PRIMARY KEY CHECK (id = 1),
              txid INTEGER NOT NULL,
              committed_at INTEGER NOT NULL
            );
            INSERT INTO replication_position (id, txid, committed_at) VALUES (1, 0, 0);
            """
    )
}
