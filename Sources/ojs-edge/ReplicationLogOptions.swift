import Foundation
import Logging
import OJSReplication
import OJSStore

/// The replication log's tuning, read from the environment by every command that leads
/// (`serve`, and `node` each time it is elected). The defaults are `ReplicationLog`'s and
/// `TransactionEncoder`'s, which say why.
enum ReplicationLogOptions {
    static var segmentBytes: Int { Env.int("OJS_REPLICATION_SEGMENT_KB").map { $0 << 10 } ?? ReplicationLog.defaultSegmentBytes }
    static var retentionBytes: Int { Env.int("OJS_REPLICATION_RETENTION_KB").map { $0 << 10 } ?? ReplicationLog.defaultRetentionBytes }
    static var retentionAgeMs: Int64 {
        Env.int("OJS_REPLICATION_RETENTION_HOURS").map { Int64($0) * 3_600_000 } ?? ReplicationLog.defaultRetentionAgeMs
    }

    /// A replica's relay log keeps the primary's retention (the same variables), so a copy,
    /// once promoted, serves as much history as the old primary did.
    static func relayLimits() -> RelayLogLimits {
        RelayLogLimits(segmentBytes: segmentBytes, retentionBytes: retentionBytes, retentionAgeMs: retentionAgeMs)
    }

    static func attach(store: Store, directory: URL, logger: Logger) async throws -> ReplicationSource {
        try await ReplicationSource.attach(
            to: store,
            directory: directory,
            logger: logger,
            segmentBytes: segmentBytes,
            retentionBytes: retentionBytes,
            retentionAgeMs: retentionAgeMs,
            logSyncIntervalMs: Env.int("OJS_REPLICATION_LOG_SYNC_MS").map(Int64.init) ?? ReplicationLog.defaultSyncIntervalMs,
            recordPageBytes: max(1, Env.int("OJS_REPLICATION_RECORD_KB") ?? TransactionEncoder.defaultPartPageBytes >> 10) << 10
        )
    }
}
