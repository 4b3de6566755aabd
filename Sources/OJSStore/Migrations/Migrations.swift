import Foundation

/// One schema migration, named as wrangler names D1 migrations (`NNNN_description.sql`).
public struct Migration: Sendable {
    public let name: String
    public let sql: String
}

/// The schema's history, applied in order and recorded in `d1_migrations` — the table
/// `wrangler d1 migrations apply` keeps — so one database can be migrated by either tool.
/// The SQL lives in the binary (a single-file deploy needs no resource bundle);
/// `ojs-edge migrations export DIR` writes the `.sql` files for a D1 project.
public enum Migrations {
    public static let all: [Migration] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009, m0010]

    static let ledger = """
        CREATE TABLE IF NOT EXISTS d1_migrations (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT UNIQUE,
          applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
        );
        """

    /// Applies every migration not yet recorded, all in one transaction: a new database pays
    /// one commit (one sync) rather than one per migration, and a failing migration leaves
    /// the schema exactly as it was. Returns the names applied.
    ///
    /// The transaction also takes the next replication txid (`replication_position`, created
    /// by 0003), like every write the writer commits: a migration is part of the database's
    /// history, so the primary ships it to replicas instead of starting a new generation.
    @discardableResult
    public static func apply(to connection: Connection, now: Int64 = 0, migrations: [Migration] = all) throws -> [String] {
        try connection.execute(ledger)
        var done = Set<String>()
        try connection.query("SELECT name FROM d1_migrations") { done.insert($0.text(0)) }
        let pending = migrations.filter { !done.contains($0.name) }
        guard !pending.isEmpty else { return [] }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            for migration in pending {
                try connection.execute(migration.sql)
                try connection.run("INSERT INTO d1_migrations (name) VALUES (?)", [.text(migration.name)])
            }
            try connection.run("UPDATE replication_position SET txid = txid + 1, committed_at = ? WHERE id = 1", [.int(now)])
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
        return pending.map(\.name)
    }

    /// Writes every migration as `NNNN_description.sql` into `directory`.
    public static func export(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try all.map { m in
            let url = directory.appendingPathComponent(m.name)
            try (m.sql + "\n").write(to: url, atomically: true, encoding: .utf8)
            return url
        }
    }
}
