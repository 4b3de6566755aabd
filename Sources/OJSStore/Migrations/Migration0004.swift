extension Migrations {
    /// Idempotency keys of pushes: the response a key's first request got, kept for the
    /// idempotency window. A row is written in the same transaction as the jobs it describes,
    /// so a key is never recorded without its jobs, nor jobs without their key.
    static let m0004 = Migration(
        name: "0004_idempotency_keys.sql",
        sql: """
            CREATE TABLE idempotency_keys (
              key TEXT PRIMARY KEY NOT NULL,
              fingerprint TEXT NOT NULL,
              status INTEGER NOT NULL,
              location TEXT,
              body TEXT NOT NULL,
              created_at INTEGER NOT NULL,
              expires_at INTEGER NOT NULL
            );
            CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
            """
    )
}
