import Foundation

/// The integration tests' one wait for a condition: polls `probe` every `interval` until it
/// gives a value, and fails naming `what` after `seconds`. `failure` may add what was seen
/// last to the message.
func eventually<T>(
    _ what: String,
    within seconds: TimeInterval = 10,
    every interval: Duration = .milliseconds(20),
    failure: () -> String = { "" },
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await probe() { return value }
        guard Date() < deadline else {
            let seen = failure()
            throw TestFailure("timed out waiting until \(what)" + (seen.isEmpty ? "" : ": " + seen))
        }
        try await Task.sleep(for: interval)
    }
}

/// `eventually` for a condition with no value to return.
func eventually(
    _ what: String,
    within seconds: TimeInterval = 10,
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let _: Bool = try await eventually(what, within: seconds, every: interval) { try await condition() ? true : nil }
}
