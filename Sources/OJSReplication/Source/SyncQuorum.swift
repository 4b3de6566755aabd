import Logging
import OJSStore
import Synchronization

/// The primary's view of synchronous replication: which replicas have an open stream, the
/// newest transaction each has durably received (from its acknowledgements), and from those
/// the quorum position — the newest txid that `required` distinct replicas hold. Writes wait
/// here (off the writer thread) until the quorum position reaches their transaction; waiting
/// never polls: an acknowledgement that raises the position resumes exactly the waiters it
/// satisfies (`reached`, the highest quorum position so far: once `required` replicas held a
/// transaction durably, it stays safe even if one of them disconnects later).
///
/// It also keeps the degradation episode of `--sync-degrade`: once a write is answered without
/// its acknowledgements, the episode lasts until the quorum position reaches every such write
/// again, so `degraded` says whether an acknowledged write may be missing from every replica.
public final class SyncQuorum: Sendable {
    /// Replicas that must hold a transaction (at least 1).
    public let required: Int
    private let state = Mutex(State())
    private let logger: Logger?
    /// The highest quorum position reached: what writes wait on.
    private let reached = PositionBroadcaster()

    private struct Replica {
        var streams = 0
        var durable: TxID = 0
    }

    private struct State {
        var replicas: [String: Replica] = [:]
        /// Nil while fewer than `required` replicas are connected.
        var position: TxID?
        var advancedAt: ContinuousClock.Instant?
        /// Newest txid answered without its acknowledgements in the current episode.
        var degradedThrough: TxID?
        var episodes = 0
    }

    /// What the status endpoint and the metrics show.
    public struct Snapshot: Sendable, Equatable {
        public var required: Int
        /// Replicas (regions) with an open stream.
        public var connected: Int
        /// The newest txid durably received by `required` connected replicas; nil while fewer
        /// are connected.
        public var quorumTxid: TxID?
        /// True while some write answered under `--sync-degrade` is not yet on `required`
        /// replicas.
        public var degraded: Bool
        public var degradedThroughTxid: TxID?
        /// Degradation episodes since start.
        public var degradedEpisodes: Int
    }

    public init(required: Int, logger: Logger? = nil) {
        self.required = max(1, required)
        self.logger = logger
    }

    public var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(
                required: required,
                connected: s.replicas.count,
                quorumTxid: s.position,
                degraded: s.degradedThrough != nil,
                degradedThroughTxid: s.degradedThrough,
                degradedEpisodes: s.episodes
            )
        }
    }

    /// A replica opened a stream from `after`: the position it saved after an fsync, so it
    /// already holds everything up to there durably.
    public func streamOpened(region: String, after: TxID) {
        update { s in
            var replica = s.replicas[region] ?? Replica()
            replica.durable = replica.streams == 0 ? after : max(replica.durable, after)
            replica.streams += 1
            s.replicas[region] = replica
        }
    }

    /// A replica's stream ended; with its last stream it stops counting toward the quorum.
    public func streamClosed(region: String) {
        update { s in
            guard var replica = s.replicas[region] else { return }
            replica.streams -= 1
            s.replicas[region] = replica.streams > 0 ? replica : nil
        }
    }

    /// Records that `region` has durably received every transaction up to `durableTxid`;
    /// false (and nothing recorded) when the region has no open stream.
    @discardableResult
    public func acknowledge(region: String, durableTxid: TxID) -> Bool {
        var known = false
        update { s in
            guard var replica = s.replicas[region] else { return }
            known = true
            replica.durable = max(replica.durable, durableTxid)
            s.replicas[region] = replica
        }
        return known
    }

    /// True once `required` replicas hold `txid`; false when `timeout` passes first or the
    /// task is cancelled.
    public func wait(for txid: TxID, timeout: Duration) async -> Bool {
        await reached.wait(atLeast: Int64(clamping: txid), timeout: timeout)
    }

    /// Whether a write should wait for its acknowledgements. Outside a degradation episode it
    /// always should. Inside one (only `--sync-degrade` starts one) it waits only while the
    /// quorum is live — `required` replicas connected and the quorum position moved within
    /// `window` — so a dead or cut-off replica costs one timeout per episode, not one per
    /// write, while a replica that is catching up holds writes until it has them all and so
    /// ends the episode.
    public func shouldWait(window: Duration) -> Bool {
        state.withLock { s in
            guard s.degradedThrough != nil else { return true }
            guard s.position != nil, let advanced = s.advancedAt else { return false }
            return ContinuousClock.now - advanced <= window
        }
    }

    /// Records that the write at `txid` was answered without its acknowledgements
    /// (`--sync-degrade`). Logs a warning when this starts an episode.
    public func answeredWithoutQuorum(txid: TxID) {
        let started = state.withLock { s -> Snapshot? in
            if let p = s.position, p >= txid { return nil }
            let starting = s.degradedThrough == nil
            s.degradedThrough = max(s.degradedThrough ?? 0, txid)
            guard starting else { return nil }
            s.episodes += 1
            return Snapshot(
                required: required,
                connected: s.replicas.count,
                quorumTxid: s.position,
                degraded: true,
                degradedThroughTxid: txid,
                degradedEpisodes: s.episodes
            )
        }
        if let started {
            logger?.warning(
                "writes are acknowledged without their synchronous replicas (--sync-degrade): a failover now may lose them",
                metadata: [
                    "required": .stringConvertible(started.required), "connected": .stringConvertible(started.connected),
                    "quorum_txid": .string(started.quorumTxid.map { String($0) } ?? "none"), "txid": .stringConvertible(txid),
                ]
            )
        }
    }

    /// Applies a change, recomputes the quorum position, ends a degradation episode the new
    /// position covers, and wakes every waiter it satisfies.
    private func update(_ change: (inout State) -> Void) {
        let (position, recovered) = state.withLock { s -> (TxID?, TxID?) in
            change(&s)
            let durable = s.replicas.values.map(\.durable).sorted(by: >)
            let position = durable.count >= required ? durable[required - 1] : nil
            if let position, position > (s.position ?? 0) { s.advancedAt = .now }
            s.position = position
            guard let position else { return (nil, nil) }
            var recovered: TxID?
            if let through = s.degradedThrough, position >= through {
                s.degradedThrough = nil
                recovered = through
            }
            return (position, recovered)
        }
        if let position { reached.publish(Int64(clamping: position)) }
        if let recovered {
            logger?.notice(
                "synchronous replicas hold every write again",
                metadata: ["required": .stringConvertible(required), "degraded_through_txid": .stringConvertible(recovered)]
            )
        }
    }
}
