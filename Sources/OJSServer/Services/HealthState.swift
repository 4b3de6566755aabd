import Foundation

/// What the health endpoint reports beyond live probes: how long the process has run.
/// (Storage trouble is the writer's to report: `Writer.storageFailure`.)
final class HealthState: Sendable {
    let startedAt = Date()

    var uptimeSeconds: Int { Int(Date().timeIntervalSince(startedAt)) }
}
