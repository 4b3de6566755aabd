import Foundation

/// What workers were told about claims and acks, with monotonic send and receive times in
/// milliseconds, and the checks that prove no job was held by two workers at once.
public struct ClaimRecord: Sendable {
    public struct Claim: Equatable, Sendable, CustomStringConvertible {
        public var id: String
        public var attempt: Int
        public var worker: String
        public var sent: Double
        public var received: Double
        public var description: String { "\(id)#\(attempt)@\(worker)" }

        public init(id: String, attempt: Int, worker: String, sent: Double, received: Double) {
            self.id = id
            self.attempt = attempt
            self.worker = worker
            self.sent = sent
            self.received = received
        }
    }

    public var claims: [Claim] = []
    public var acked: [String: (sent: Double, received: Double)] = [:]

    public init() {}

    /// Two deliveries of one job overlapping in time. A later claim is certainly early when
    /// its answer arrived before the earlier claim's request was even sent plus the
    /// visibility timeout (claim times lie between send and receive), unless the earlier
    /// holder acked first. The same attempt number delivered twice is always a double claim.
    public func doubleClaims(visibilityMs: Int) -> [String] {
        var found: [String] = []
        for (_, list) in Dictionary(grouping: claims, by: \.id) {
            let ordered = list.sorted { $0.received < $1.received }
            var seen = Set<Int>()
            for c in ordered where !seen.insert(c.attempt).inserted { found.append("\(c) delivered twice") }
            for (a, b) in zip(ordered, ordered.dropFirst()) where b.received < a.sent + Double(visibilityMs) {
                if let ack = acked[a.id], ack.received <= b.sent { continue }
                found.append("\(b) while \(a) still held it")
            }
        }
        return found.sorted()
    }

    /// Claims requested after the job's ack was answered.
    public func claimsAfterAck() -> [String] {
        claims.compactMap { c in
            guard let ack = acked[c.id], c.sent > ack.received else { return nil }
            return "\(c) after its ack"
        }
    }
}

/// A thread-safe `ClaimRecord` that many workers append to.
public final class ClaimLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var record = ClaimRecord()

    public init() {}

    /// Milliseconds on a monotonic clock shared by every worker of this process.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }

    public func claimed(_ claim: ClaimRecord.Claim) { lock.withLock { record.claims.append(claim) } }
    public func acked(_ id: String, sent: Double, received: Double) { lock.withLock { record.acked[id] = (sent, received) } }
    public func snapshot() -> ClaimRecord { lock.withLock { record } }
}
