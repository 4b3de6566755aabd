import Histogram

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic nanoseconds.
func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// One connection's measurements: a latency histogram (nanoseconds) and counters, kept only
/// for requests that complete inside the measurement window (after the warm-up).
struct Recorder {
    var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
    var requests = 0
    var jobs = 0
    var errors = 0
    var statuses: [Int: Int] = [:]
    var lastError: String?
    let windowStart: UInt64
    let windowEnd: UInt64
    /// In paced runs, the time the next request was *meant* to be sent: latency is measured
    /// from it, so a server stall also counts for the requests that queued behind it
    /// (no coordinated omission).
    var intendedStart: UInt64?

    init(windowStart: UInt64, windowEnd: UInt64) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
    }

    var inWindow: Bool {
        let t = nowNanos()
        return t >= windowStart && t < windowEnd
    }

    /// Times one request/response exchange.
    mutating func timed<T>(_ body: () throws -> T) rethrows -> T {
        let t0 = intendedStart ?? nowNanos()
        intendedStart = nil
        let result = try body()
        let t1 = nowNanos()
        if t1 >= windowStart && t1 < windowEnd {
            _ = histogram.record(t1 &- t0)
            requests += 1
        }
        return result
    }

    mutating func status(_ code: Int) {
        guard inWindow || code >= 300 else { return }
        statuses[code, default: 0] += 1
        if code >= 300 { errors += 1 }
    }

    mutating func completed(jobs n: Int) {
        if inWindow { jobs += n }
    }
}
