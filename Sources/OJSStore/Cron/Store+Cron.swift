import Foundation
import OJSCore

/// A registered cron entry.
public struct CronSnapshot: Sendable {
    public var name: String
    public var expression: String
    public var timezone: String
    public var overlapPolicy: String
    public var enabled: Bool
    public var description: String?
    public var jobTemplate: String
    public var nextRunAt: Int64?
    public var lastRunAt: Int64?
    public var runCount: Int64
    public var createdAt: Int64
    public var updatedAt: Int64
}

extension Store {
    static let cronColumns =
        "name, expression, timezone, overlap_policy, enabled, description, job_template, next_run_at, last_run_at, run_count, created_at, updated_at"

    static func cronSnapshot(_ r: Row) -> CronSnapshot {
        CronSnapshot(
            name: r.text(0),
            expression: r.text(1),
            timezone: r.text(2),
            overlapPolicy: r.text(3),
            enabled: r.int(4) != 0,
            description: r.optText(5),
            jobTemplate: r.text(6),
            nextRunAt: r.optInt(7),
            lastRunAt: r.optInt(8),
            runCount: r.int(9),
            createdAt: r.int(10),
            updatedAt: r.int(11)
        )
    }

    /// Registers (or replaces) a cron entry; its next run is computed from now.
    public func registerCron(_ def: CronDefinition) async throws -> CronSnapshot {
        try await write { ctx in
            let next = def.enabled ? CronRunner.nextRun(def.expression.text, timezone: def.timezone, after: ctx.now) : nil
            guard
                let snapshot = try ctx.db.first(
                    """
                    INSERT INTO crons (name, expression, timezone, overlap_policy, enabled, description, job_template, next_run_at,
                      created_at, updated_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                    ON CONFLICT (name) DO UPDATE SET expression = ?2, timezone = ?3, overlap_policy = ?4, enabled = ?5, description = ?6,
                      job_template = ?7, next_run_at = ?8, updated_at = ?9
                    RETURNING \(Self.cronColumns)
                    """,
                    [
                        .text(def.name), .text(def.expression.text), .text(def.timezone), .text(def.overlap.rawValue), SQLValue(def.enabled),
                        SQLValue(def.description), .text(def.template.jsonText), SQLValue(next), .int(ctx.now),
                    ],
                    Self.cronSnapshot
                )
            else { throw OJSError(.backendError, "Cron entry was not stored.") }
            return snapshot
        }
    }

    public func crons() async throws -> [CronSnapshot] {
        try await read { db in
            var out: [CronSnapshot] = []
            try db.query("SELECT \(Self.cronColumns) FROM crons ORDER BY name") { out.append(Self.cronSnapshot($0)) }
            return out
        }
    }

    public func deleteCron(name: String) async throws -> CronSnapshot {
        try await write { ctx in
            guard let snapshot = try ctx.db.first("DELETE FROM crons WHERE name = ? RETURNING \(Self.cronColumns)", [.text(name)], Self.cronSnapshot)
            else { throw OJSError.notFound("cron", name) }
            return snapshot
        }
    }
}

extension Store {
    /// Enables or disables a cron entry. Disabling clears `next_run_at`, so the scheduler's
    /// partial index (`crons_next_run`, enabled entries only) no longer sees it; enabling
    /// computes the next run from now, so a long-disabled entry does not fire for the ticks
    /// it missed.
    public func setCronEnabled(name: String, enabled: Bool) async throws -> CronSnapshot {
        try await write { ctx in
            guard let current = try ctx.db.first("SELECT \(Self.cronColumns) FROM crons WHERE name = ?", [.text(name)], Self.cronSnapshot)
            else { throw OJSError.notFound("cron", name) }
            let next = enabled ? CronRunner.nextRun(current.expression, timezone: current.timezone, after: ctx.now) : nil
            guard
                let snapshot = try ctx.db.first(
                    "UPDATE crons SET enabled = ?, next_run_at = ?, updated_at = ? WHERE name = ? RETURNING \(Self.cronColumns)",
                    [SQLValue(enabled), SQLValue(next), .int(ctx.now), .text(name)],
                    Self.cronSnapshot
                )
            else { throw OJSError.notFound("cron", name) }
            return snapshot
        }
    }
}
