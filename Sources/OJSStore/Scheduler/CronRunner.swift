import OJSCore

/// Fires due cron entries from the scheduler's tick.
enum CronRunner {
    static func fireDue(_ ctx: WriteContext, config: StoreConfiguration) throws {}
}
