import Foundation

/// Everything one region's clients experienced, as raw observations; `Report` turns them
/// into figures.
public struct RegionObservations: Sendable {
    public var latenciesMs: [String: [Double]] = [:]
    public var succeeded: [String: Int] = [:]
    public var errors: [String: Int] = [:]
    public var readsLocal = 0
    public var readsForwarded = 0
    public var readsWithoutBookmark = 0
    public var staleReadsWithoutBookmark = 0
    public var readsWithBookmark = 0
    public var rywViolations: [String] = []
    /// (seconds since the start, lag in ms); nil lag when the replica did not answer.
    public var lag: [LagSample] = []

    public init() {}
}

public struct LagSample: Codable, Sendable, Equatable {
    public var t: Double
    public var lagMs: Double?
    public init(t: Double, lagMs: Double?) {
        self.t = t
        self.lagMs = lagMs
    }
}

/// When a client was answered 2xx for a write, and the `OJS-Served-By` of the answer
/// (`primary/<leader>` for a write a node forwarded to its leader).
struct WriteAnswer: Sendable {
    var at: ContinuousClock.Instant
    var servedBy: String
}

/// A write a region's client made and a later read of its own must reflect.
struct OwnWrite: Sendable {
    enum Expectation: Sendable { case exists, completed }
    var jobId: String
    var expectation: Expectation
    var bookmark: String?
}

/// The shared, thread-safe sink of the workload, lag sampler and fault timeline.
public final class Observations: @unchecked Sendable {
    private let lock = NSLock()
    private var regions: [String: RegionObservations] = [:]
    private var writes: [String: [OwnWrite]] = [:]
    private var pushed: [String] = []
    private var writeAnswers: [WriteAnswer] = []
    public let claims = ClaimLedger()

    public init(regions names: [String]) {
        for n in names { regions[n] = RegionObservations() }
    }

    func succeeded(_ region: String, _ op: String, ms: Double) {
        lock.withLock {
            regions[region, default: .init()].latenciesMs[op, default: []].append(ms)
            regions[region, default: .init()].succeeded[op, default: 0] += 1
        }
    }

    func failed(_ region: String, _ op: String, kind: String) {
        lock.withLock { regions[region, default: .init()].errors["\(op): \(kind)", default: 0] += 1 }
    }

    /// A producer was answered 201 for these jobs: they must exist at the end.
    func acknowledgedPush(_ region: String, ids: [String], bookmark: String?) {
        lock.withLock {
            pushed.append(contentsOf: ids)
            for id in ids { remember(region, OwnWrite(jobId: id, expectation: .exists, bookmark: bookmark)) }
        }
    }

    /// A push or batch answered 2xx, with who answered it: the failover time is measured from these.
    func answeredWrite(servedBy: String?) {
        let answer = WriteAnswer(at: .now, servedBy: servedBy ?? "")
        lock.withLock { writeAnswers.append(answer) }
    }

    func writesAnswered() -> [WriteAnswer] { lock.withLock { writeAnswers } }

    func acknowledgedAck(_ region: String, id: String, bookmark: String?) {
        lock.withLock { remember(region, OwnWrite(jobId: id, expectation: .completed, bookmark: bookmark)) }
    }

    /// Keeps the region's recent writes: readers check one of the latest, where a stale copy shows.
    private func remember(_ region: String, _ write: OwnWrite) {
        writes[region, default: []].append(write)
        if writes[region, default: []].count > 64 { writes[region]?.removeFirst(32) }
    }

    func recentWrite(_ region: String, pick: UInt64) -> OwnWrite? {
        lock.withLock {
            guard let list = writes[region], !list.isEmpty else { return nil }
            let window = Swift.min(list.count, 8)
            return list[list.count - 1 - Int(pick % UInt64(window))]
        }
    }

    func read(_ region: String, local: Bool, bookmarked: Bool, reflected: Bool, detail: @autoclosure () -> String) {
        lock.withLock {
            var r = regions[region, default: .init()]
            if local { r.readsLocal += 1 } else { r.readsForwarded += 1 }
            if bookmarked {
                r.readsWithBookmark += 1
                if !reflected { r.rywViolations.append(detail()) }
            } else {
                r.readsWithoutBookmark += 1
                if !reflected { r.staleReadsWithoutBookmark += 1 }
            }
            regions[region] = r
        }
    }

    func lag(_ region: String, _ sample: LagSample) {
        lock.withLock { regions[region, default: .init()].lag.append(sample) }
    }

    public func snapshot() -> (regions: [String: RegionObservations], pushed: [String]) {
        lock.withLock { (regions, pushed) }
    }
}
