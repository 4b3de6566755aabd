import Foundation

// The same wait as Tests/IntegrationTests/Eventually.swift (test targets cannot share a
// helper target here without a new target for one function).

/// Polls `probe` every `interval` until it gives a value; fails naming `what` after `seconds`.
func eventually<T>(
    _ what: String,
    within seconds: TimeInterval = 10,
    every interval: Duration = .milliseconds(20),
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await probe() { return value }
        guard Date() < deadline else { throw TestFailure("timed out waiting until \(what)") }
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

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, failing naming `what` when it has not finished after `seconds` (so an awaited
/// stream element that never comes fails the test instead of hanging it).
func within<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TestFailure("timed out after \(seconds) s waiting for \(what)") }
        return value
    }
}
