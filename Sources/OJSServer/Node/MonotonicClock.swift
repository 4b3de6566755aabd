#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Milliseconds of `CLOCK_MONOTONIC`: the clock fencing is measured on. It never jumps with
/// the wall clock, and it keeps counting while the process is stopped (`SIGSTOP`), so a
/// primary that wakes after its lease ran out sees at once that it did.
public enum MonotonicClock {
    public static func millis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
