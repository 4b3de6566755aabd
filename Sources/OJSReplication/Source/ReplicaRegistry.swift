import Synchronization

/// What the primary knows of each replica: the position it last reported, whether its stream
/// is open, and from those the lag in transactions, bytes and milliseconds.
public final class ReplicaRegistry: Sendable {
    /// A replica's position report, as the protocol defines it.
    public typealias Report = ReplicationProtocol.PositionReport

    public struct Entry: Sendable, Equatable {
        public var region: String
        public var state: String
        public var appliedTxid: TxID
        public var lagTransactions: UInt64
        public var lagBytes: Int
        public var lagMs: Int64
        public var lastContact: Int64
        public var streams: Int
    }

    struct Known {
        var report: Report
        var reportedAt: Int64
        var streams = 0
        var lastStreamChange: Int64
    }

    /// A replica with no open stream and no report for this long is `disconnected`.
    public static let silenceMs: Int64 = 3000

    private let known = Mutex<[String: Known]>([:])
    /// Recent transactions: (txid, commit time, record bytes), oldest first.
    private let history = Mutex<[(txid: TxID, commitTime: Int64, bytes: Int)]>([])
    static let historyCapacity = 200_000

    public init() {}

    func recordTransaction(txid: TxID, commitTime: Int64, bytes: Int) {
        history.withLock { h in
            h.append((txid, commitTime, bytes))
            if h.count > Self.historyCapacity { h.removeFirst(h.count - Self.historyCapacity / 2) }
        }
    }

    /// The most replicas tracked at once. A deployment runs one replica per region, so 64 is
    /// far above any real topology while bounding the registry's memory and the metric series
    /// its entries create, whatever a caller sends.
    public static let capacity = 64
    /// A replica with no open stream and no report for this long is forgotten (10 minutes: long
    /// enough to ride out a restart or a partition while still showing as `disconnected`).
    public static let idleExpiryMs: Int64 = 10 * 60_000
    /// Region names in stream requests and position reports: the queue-name alphabet, short.
    public static let maxRegionLength = 64

    /// Whether `region` is a name the registry accepts: 1–64 ASCII letters, digits, `-`, `_`
    /// or `.` (it becomes a metric label and a path segment).
    public static func isValidRegion(_ region: String) -> Bool {
        !region.isEmpty && region.utf8.count <= maxRegionLength
            && region.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
            }
    }

    /// Records a replica's reported position. Accepted only from a replica whose stream is open
    /// (the report names the region of a stream the replication key opened): a report for any
    /// other region is refused and creates nothing.
    @discardableResult
    public func report(region: String, _ report: Report, now: Int64) -> Bool {
        known.withLock { k in
            guard var entry = k[region], entry.streams > 0 else { return false }
            entry.report = report
            entry.reportedAt = now
            k[region] = entry
            return true
        }
    }

    /// Counts an opened stream; false when the registry is full of live replicas (idle ones
    /// are forgotten first), and the stream must then be refused.
    public func streamOpened(region: String, after txid: TxID, now: Int64) -> Bool {
        known.withLock { k in
            Self.expire(&k, now: now)
            if k[region] == nil && k.count >= Self.capacity { return false }
            var entry =
                k[region] ?? Known(report: Report(appliedTxid: txid, state: "catching_up", generation: nil), reportedAt: now, lastStreamChange: now)
            entry.streams += 1
            entry.lastStreamChange = now
            k[region] = entry
            return true
        }
    }

    public func streamClosed(region: String, now: Int64) {
        known.withLock { k in
            guard var entry = k[region] else { return }
            entry.streams = max(0, entry.streams - 1)
            entry.lastStreamChange = now
            k[region] = entry
        }
    }

    /// Drops replicas with no open stream and no contact for `idleExpiryMs`.
    static func expire(_ k: inout [String: Known], now: Int64) {
        k = k.filter { $0.value.streams > 0 || now - max($0.value.reportedAt, $0.value.lastStreamChange) <= idleExpiryMs }
    }

    /// Every known replica with its lag against `lastTxid`.
    public func entries(lastTxid: TxID, now: Int64) -> [Entry] {
        let snapshot = known.withLock { k in
            Self.expire(&k, now: now)
            return k
        }
        let recent = history.withLock { $0 }
        return snapshot.keys.sorted().compactMap { region in
            guard let k = snapshot[region] else { return nil }
            let applied = k.report.appliedTxid
            let behind = lastTxid > applied ? lastTxid - applied : 0
            var bytes = 0
            var oldestCommit: Int64?
            if behind > 0 {
                for item in recent.reversed() {
                    if item.txid <= applied { break }
                    bytes += item.bytes
                    oldestCommit = item.commitTime
                }
            }
            let lastContact = max(k.reportedAt, k.lastStreamChange)
            let silent = k.streams == 0 && now - k.reportedAt > Self.silenceMs
            let state = silent ? "disconnected" : (k.report.state == "streaming" && behind > 0 ? "catching_up" : k.report.state)
            let lagMs: Int64 = silent ? max(0, now - lastContact) : (oldestCommit.map { max(0, now - $0) } ?? 0)
            return Entry(
                region: region,
                state: state,
                appliedTxid: applied,
                lagTransactions: behind,
                lagBytes: bytes,
                lagMs: lagMs,
                lastContact: lastContact,
                streams: k.streams
            )
        }
    }
}
