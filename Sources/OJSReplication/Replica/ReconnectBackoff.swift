/// Capped exponential backoff with jitter for a replica's requests to the primary. Pure: the
/// caller passes the attempt number and a random fraction, so the schedule is testable
/// without clocks.
///
/// Before this, a replica retried a refused request at once: after a key rotation one replica
/// sent 31,904 snapshot requests in 15 s.
public struct ReconnectBackoff: Sendable, Equatable {
    /// The first retry waits at least this long: at most 2 requests/s while a fault is new,
    /// which still resumes within half a second after a primary restart.
    public static let defaultInitialMs = 500
    /// The longest wait: a replica refused for an hour makes about 240 requests, and one whose
    /// primary comes back resumes within 15 s (plus jitter).
    public static let defaultMaxMs = 15_000
    /// Each wait is stretched by up to this fraction at random, so replicas that failed
    /// together (a primary restart) do not all retry in the same instant.
    public static let defaultJitter = 0.2

    public var initialMs: Int
    public var maxMs: Int
    public var jitter: Double

    public init(
        initialMs: Int = ReconnectBackoff.defaultInitialMs,
        maxMs: Int = ReconnectBackoff.defaultMaxMs,
        jitter: Double = ReconnectBackoff.defaultJitter
    ) {
        self.initialMs = max(1, initialMs)
        self.maxMs = max(self.initialMs, maxMs)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before retry number `attempt` (1 = the first retry after a failure), with
    /// `random` in 0..<1. Never below `initialMs` (jitter only lengthens) and never above
    /// `maxMs`.
    public func delayMs(attempt: Int, random: Double) -> Int {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(maxMs, initialMs.multipliedReportingOverflow(by: 1 << exponent).overflow ? maxMs : initialMs << exponent)
        let stretched = Double(base) * (1 + jitter * min(max(random, 0), 1))
        // Compared as doubles first: converting a double at or past Int.max would trap.
        return stretched >= Double(maxMs) ? maxMs : Int(stretched)
    }

    /// The delay with a fresh random fraction.
    public func delayMs(attempt: Int) -> Int {
        delayMs(attempt: attempt, random: Double.random(in: 0..<1))
    }
}
