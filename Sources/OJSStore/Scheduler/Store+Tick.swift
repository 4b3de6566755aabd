import OJSCore

extension Store {
    /// One pass of the scheduler's work, in one write transaction: time-driven transitions,
    /// due cron entries, and retention purges.
    public func tick() async throws {
        let config = configuration
        try await write { ctx in
            try Maintenance.runDue(ctx, config: config)
            try CronRunner.fireDue(ctx, config: config)
            try Maintenance.purge(ctx, config: config)
        }
    }
}
