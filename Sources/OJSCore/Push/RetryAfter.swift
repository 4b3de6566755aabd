/// How long a throttled endpoint waits before the next delivery. The server reads the wait a
/// function asks for (`OJSServer`, `DeliveryOutcome+HTTP.swift`); these are the bounds.
public enum RetryAfter {
    /// Longest wait honoured when a function names one, so a typo cannot stall a queue for days.
    public static let maxMs: Int64 = 3_600_000

    /// The wait when the function names none: 1 s, doubling with each consecutive 429 up to 60 s.
    /// `streak` counts the 429s before this one.
    public static func defaultDelayMs(streak: Int) -> Int64 {
        let doublings = min(max(streak, 0), 6)
        return min(60_000, 1000 << Int64(doublings))
    }
}
