import Foundation
import Histogram

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one worker per connection, each on its own thread, through a warm-up and a
/// measurement window, and merges their histograms.
enum Runner {
    struct Options {
        var warmup: Double
        var duration: Double
        /// Total operations per second across all connections (open loop), or closed loop.
        var rate: Double?
        /// Stop each connection after this many jobs (filling a database) instead of at the
        /// end of the window.
        var jobsPerConnection: Int?
    }

    /// Holds what one thread produced; written by that thread only, read after it joined.
    private final class Slot: @unchecked Sendable {
        let worker: any LoadWorker
        var recorder: Recorder
        var finishedAt: UInt64 = 0
        var failure: String?
        init(worker: any LoadWorker, recorder: Recorder) {
            self.worker = worker
            self.recorder = recorder
        }
    }

    static func run(_ workers: [any LoadWorker], _ options: Options) throws -> [String: Any] {
        for w in workers { try w.setup() }
        let start = nowNanos()
        let windowStart = start + UInt64(options.warmup * 1e9)
        let windowEnd = windowStart + UInt64(options.duration * 1e9)
        let slots = workers.map { Slot(worker: $0, recorder: Recorder(windowStart: windowStart, windowEnd: windowEnd)) }
        let interval = options.rate.map { Double(workers.count) / $0 * 1e9 }
        let done = DispatchGroup()
        for (i, slot) in slots.enumerated() {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                // Stagger paced connections so their sends spread over the interval.
                var next = Double(start) + (interval ?? 0) * Double(i) / Double(slots.count)
                do {
                    while nowNanos() < windowEnd {
                        if let limit = options.jobsPerConnection, slot.recorder.jobs >= limit { break }
                        if let interval {
                            let now = Double(nowNanos())
                            if next > now { usleep(UInt32((next - now) / 1000)) }
                            slot.recorder.intendedStart = UInt64(next)
                            next += interval
                        }
                        try slot.worker.operation(&slot.recorder)
                    }
                } catch {
                    slot.failure = "\(error)"
                }
                slot.finishedAt = nowNanos()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        // Client CPU over the window: the generator shares the cores with the server.
        sleepUntil(windowStart)
        let cpu0 = cpuSeconds()
        done.wait()
        let cpu1 = cpuSeconds()
        let end = min(windowEnd, slots.map(\.finishedAt).max() ?? windowEnd)
        let elapsed = Double(end &- windowStart) / 1e9

        var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        var requests = 0
        var jobs = 0
        var errors = 0
        var statuses: [String: Int] = [:]
        for s in slots {
            histogram.add(s.recorder.histogram)
            requests += s.recorder.requests
            jobs += s.recorder.jobs
            errors += s.recorder.errors
            for (code, n) in s.recorder.statuses { statuses[String(code), default: 0] += n }
        }
        func ms(_ p: Double) -> Double { (Double(histogram.valueAtPercentile(p)) / 1e4).rounded() / 100 }
        return [
            "connections": workers.count,
            "rate_target": options.rate ?? 0,
            "duration_s": round3(elapsed),
            "requests": requests,
            "jobs": jobs,
            "requests_per_s": round3(Double(requests) / elapsed),
            "jobs_per_s": round3(Double(jobs) / elapsed),
            "errors": errors,
            "statuses": statuses,
            "latency_ms": [
                "p50": ms(50), "p90": ms(90), "p99": ms(99), "p99_9": ms(99.9),
                "max": (Double(histogram.max) / 1e4).rounded() / 100,
                "mean": (histogram.mean / 1e4).rounded() / 100,
            ],
            "client_cpu_s": round3(cpu1 - cpu0),
            "client_cores": round3((cpu1 - cpu0) / elapsed),
            "failures": slots.compactMap(\.failure),
        ]
    }

    private static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    private static func sleepUntil(_ t: UInt64) {
        let now = nowNanos()
        if t > now { usleep(UInt32((t - now) / 1000)) }
    }

    #if canImport(Glibc)
    private static let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    private static let RUSAGE_SELF_WHO = RUSAGE_SELF
    #endif

    private static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF_WHO, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
