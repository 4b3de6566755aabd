import Foundation

/// How long a throttled endpoint waits before the next delivery.
public enum RetryAfter {
    /// Longest wait honoured from a `Retry-After` header, so a typo cannot stall a queue for days.
    public static let maxMs: Int64 = 3_600_000

    /// A `Retry-After` value in milliseconds from `now`: delta-seconds (`"3"`, also `"1.5"`)
    /// or an HTTP date. Nil when unreadable.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 {
            return min(maxMs, Int64((seconds * 1000).rounded(.up)))
        }
        guard let date = httpDate.date(from: trimmed) else { return nil }
        return min(maxMs, max(0, Int64(date.timeIntervalSince1970 * 1000) - now))
    }

    /// The wait without a usable header: 1 s, doubling with each consecutive 429 up to 60 s.
    /// `streak` counts the 429s before this one.
    public static func defaultDelayMs(streak: Int) -> Int64 {
        let doublings = min(max(streak, 0), 6)
        return min(60_000, 1000 << Int64(doublings))
    }

    // IMF-fixdate, the form RFC 9110 requires senders to use.
    private static let httpDate: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f
    }()
}
