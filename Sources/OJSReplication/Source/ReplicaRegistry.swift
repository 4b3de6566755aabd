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

    public func report(region: String, _ report: Report, now: Int64) {
        known.withLock { k in
            var entry = k[region] ?? Known(report: report, reportedAt: now, lastStreamChange: now)
            entry.report = report
            entry.reportedAt = now
            k[region] = entry
        }
    }

    public func streamOpened(region: String, after txid: TxID, now: Int64) {
        known.withLock { k in
            var entry = k[region] ?? Known(report: Report(appliedTxid: txid, state: "catching_up", generation: nil), reportedAt: now, lastStreamChange: now)
            entry.streams += 1
            entry.lastStreamChange = now
            k[region] = entry
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

    /// Every known replica with its lag against `lastTxid`.
    public func entries(lastTxid: TxID, now: Int64) -> [Entry] {
        let snapshot = known.withLock { $0 }
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
                region: region, state: state, appliedTxid: applied, lagTransactions: behind, lagBytes: bytes, lagMs: lagMs,
                lastContact: lastContact, streams: k.streams)
        }
    }
}
