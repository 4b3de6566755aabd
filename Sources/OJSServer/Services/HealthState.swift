import Foundation
import OJSStore
import Synchronization

/// What the health endpoint reports beyond a live database probe: when the process started
/// and the last storage failure a request ran into.
final class HealthState: Sendable {
    let startedAt = Date()
    private let lastFailure = Mutex<(at: Date, message: String)?>(nil)

    func recordStorageFailure(_ error: StoreError) {
        lastFailure.withLock { $0 = (Date(), "\(error)") }
    }

    /// A storage failure in the last 30 seconds degrades health.
    var recentFailure: String? {
        lastFailure.withLock { f in
            guard let f, Date().timeIntervalSince(f.at) < 30 else { return nil }
            return f.message
        }
    }

    var uptimeSeconds: Int { Int(Date().timeIntervalSince(startedAt)) }
}
