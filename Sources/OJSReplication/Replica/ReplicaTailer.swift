import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OJSStore
import Synchronization

/// Keeps a replica's copy following the primary: bootstraps from a snapshot when there is no
/// usable copy, then tails the record stream, verifying every record (checksum chain, txid
/// continuity, generation) and applying whole transactions in small batches. Reconnects with
/// backoff; re-bootstraps when the primary says the position is gone or the history changed.
public final class ReplicaTailer: Sendable {
    public struct Configuration: Sendable {
        public var primaryURL: String
        public var replicationKey: String?
        /// Collect records for at most this long before applying them, so readers are paused
        /// rarely under load (the first record after a quiet period applies at once). 2 ms:
        /// at 5,000 jobs/s the replica's visibility lag measured from outside
        /// (`benchmarks/visibility_lag.py`) was p99 17 ms with 10 ms and 7 ms with 2 ms (8 ms
        /// with none); under heavier load an apply (its fsyncs take several ms) gathers the
        /// records that arrive meanwhile anyway, so the window adds little batching there.
        public var batchWindowMs: Int = 2
        /// Reconnect when nothing (not even a heartbeat) arrived for this long.
        public var idleTimeoutMs: Int = 5000
        /// How long to wait between failed attempts (`ReconnectBackoff` names the defaults).
        public var backoff = ReconnectBackoff()
        /// Received records waiting to be applied are held up to about this many bytes; past
        /// it the stream is not read until the applier drains them (backpressure). 32 MiB is
        /// several seconds of a busy primary's records, and half a 64 MiB record's worth.
        public var maxPendingBytes: Int = 32 << 20
        /// Named in the stream request and in position reports, so the primary can tell
        /// replicas apart.
        public var region: String
        /// How often the applied position is reported to the primary.
        public var reportIntervalMs: Int = 1000
        /// How long one synchronous acknowledgement may take before it is sent again. The
        /// primary waits 2 s by default (`SyncPolicy.defaultTimeoutMs`) for a write's
        /// acknowledgements; a lost one retried after 1 s still arrives inside that.
        public var ackTimeoutMs: Int = 1000
        /// How long a snapshot request waits for the response head: the primary copies its
        /// whole database to a file first (3 GiB in 15 s measured here, see
        /// `docs/benchmarks.md`), so 10 minutes leaves room for a far larger or slower disk.
        public var snapshotHeadTimeoutMs: Int = 600_000
        /// A snapshot body that delivers nothing for this long is given up and resumed.
        public var snapshotIdleTimeoutMs: Int = 30_000

        public init(primaryURL: String, region: String = "default", replicationKey: String? = nil) {
            self.primaryURL = primaryURL.hasSuffix("/") ? String(primaryURL.dropLast()) : primaryURL
            self.region = region
            self.replicationKey = replicationKey
        }
    }

    public let applier: ReplicaApplier
    public let status = ReplicaStatusBox()
    /// The applied txid, for bookmark waits.
    public let applied = PositionBroadcaster()
    /// Set when the local copy belongs to another history: it must not serve reads.
    public let diverged = Mutex(false)
    /// Called after each applied batch: records, bytes, apply time, commit-to-apply lags (ms).
    public typealias ApplyObserver = @Sendable (Int, Int, Duration, [Int64]) -> Void
    let applyObserver = Mutex<ApplyObserver?>(nil)
    public func onApply(_ observer: @escaping ApplyObserver) { applyObserver.withLock { $0 = observer } }
    let configuration: Configuration
    let client: HTTPClient
    let logger: Logger
    let clock: @Sendable () -> Int64

    public init(configuration: Configuration, applier: ReplicaApplier, client: HTTPClient, logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.configuration = configuration
        self.applier = applier
        self.client = client
        self.logger = logger
        self.clock = clock
        if let p = applier.position {
            applied.reset(to: Int64(p.txid))
            status.update {
                $0.appliedTxid = p.txid
                $0.primaryTxid = p.txid
                $0.generation = p.generation.text
                $0.state = .disconnected
            }
        }
    }

    /// Bootstraps if needed; returns once the copy can serve reads. An existing copy is first
    /// checked against the primary (`verifyCopy`).
    public func prepare() async throws {
        if applier.hasCopy { await verifyCopy() }
        var attempt = 0
        while !applier.hasCopy {
            do {
                try await bootstrap()
                clearFault()
            } catch {
                attempt += 1
                try await Task.sleep(for: .milliseconds(noteFault(Self.faultKind(of: error), error, attempt: attempt)))
            }
        }
    }

    /// Tails and reports the applied position, until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.tailForever() }
            group.addTask { await self.reportForever() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Tells the primary where this copy stands, soon after every applied batch (at most every
    /// 100 ms) and at least every `reportIntervalMs`: the primary's lag figures for this
    /// region come from these reports. A refused or failed report backs off like the stream.
    func reportForever() async {
        var failures = 0
        while !Task.isCancelled {
            _ = await applied.wait(atLeast: Int64(status.current.appliedTxid) + 1, timeout: .milliseconds(configuration.reportIntervalMs))
            let s = status.current
            var r = request(ReplicationProtocol.Path.position(region: configuration.region))
            r.method = .POST
            r.headers.add(name: "Content-Type", value: "application/json")
            let report = ReplicationProtocol.PositionReport(appliedTxid: s.appliedTxid, state: s.state.rawValue, generation: s.generation)
            r.body = .bytes(ByteBuffer(string: report.json.jsonText))
            let accepted = (try? await client.execute(r, timeout: .seconds(2)).status.code == 200) ?? false
            failures = accepted ? 0 : failures + 1
            let pause = failures == 0 ? 100 : configuration.backoff.delayMs(attempt: failures)
            try? await Task.sleep(for: .milliseconds(pause))
        }
    }

    /// Follows the primary until cancelled. Only the two refusals that make the copy unusable
    /// (`x_generation_mismatch`, `x_snapshot_required`) discard it; every other failure keeps
    /// it and retries after a capped, jittered backoff.
    func tailForever() async {
        var failures = 0
        while !Task.isCancelled {
            let connectionsBefore = status.current.connections
            do {
                if !applier.hasCopy {
                    try await bootstrap()
                    clearFault()
                }
                try await tail()
            } catch is CancellationError {
                return
            } catch {
                // A stream that opened and then ended starts the count again.
                if status.current.connections != connectionsBefore { failures = 0 }
                failures += 1
                switch Self.outcome(of: error) {
                case .historyDiverged, .positionTrimmed:
                    logger.warning("replica re-bootstraps", metadata: ["reason": .string("\(error)")])
                    if Self.outcome(of: error) == .historyDiverged { diverged.withLock { $0 = true } }
                    applier.discardPosition()
                    // Straight to the snapshot the first time; a primary that keeps refusing
                    // fresh snapshots is waited out like any other fault.
                    if failures > 1 { try? await Task.sleep(for: .milliseconds(configuration.backoff.delayMs(attempt: failures - 1))) }
                case .fault(let kind):
                    let now = clock()
                    if error is StreamEnded { status.update { $0.closedByPrimaryAt = now } }
                    try? await Task.sleep(for: .milliseconds(noteFault(kind, error, attempt: failures)))
                }
            }
        }
    }

    /// Records a fault, logs it when its kind changed, and returns the delay before the next
    /// attempt.
    func noteFault(_ kind: ReplicaFault.Kind, _ error: any Error, attempt: Int) -> Int {
        let delay = configuration.backoff.delayMs(attempt: attempt)
        let now = clock()
        let detail = "\(error)"
        let previous = status.current.fault
        status.update { s in
            if s.fault?.kind == kind, var fault = s.fault {
                fault.attempts = attempt
                fault.detail = detail
                fault.nextAttemptAt = now + Int64(delay)
                s.fault = fault
            } else {
                s.fault = ReplicaFault(kind: kind, detail: detail, since: now, attempts: attempt, nextAttemptAt: now + Int64(delay))
            }
            s.faultCounts[kind, default: 0] += 1
            s.lastError = detail
            s.state = kind == .refused ? .refused : (applier.hasCopy ? .disconnected : .bootstrapping)
        }
        if previous?.kind != kind {
            logger.warning(
                "replica cannot follow the primary; keeping its copy and backing off",
                metadata: ["fault": .string(kind.rawValue), "error": .string(detail), "retry_ms": .stringConvertible(delay)]
            )
        }
        return delay
    }

    /// Ends the fault state once the primary answers again; logs the recovery once.
    func clearFault() {
        let previous = status.current.fault
        status.update { $0.fault = nil }
        if let previous {
            logger.notice(
                "replica follows the primary again",
                metadata: ["after_fault": .string(previous.kind.rawValue), "attempts": .stringConvertible(previous.attempts)]
            )
        }
    }

    /// What an error from bootstrapping or tailing means for the copy.
    static func outcome(of error: any Error) -> ReplicaOutcome {
        switch error {
        case TailError.generationChanged: return .historyDiverged
        case TailError.snapshotRequired: return .positionTrimmed
        case TailError.status(let code, _): return ReplicationProtocol.outcome(status: code)
        default: return .fault(faultKind(of: error))
        }
    }

    static func faultKind(of error: any Error) -> ReplicaFault.Kind {
        switch error {
        case TailError.status(let code, _):
            if case .fault(let kind) = ReplicationProtocol.outcome(status: code) { return kind }
            return .unexpectedStatus
        case TailError.brokenStream, is RecordError, is SnapshotError: return .brokenStream
        case is ReplicaApplyError, is ReplicationLogError: return .local
        default: return .network
        }
    }

    enum TailError: Error, CustomStringConvertible {
        case generationChanged
        case snapshotRequired
        case brokenStream(String)
        case status(Int, String)

        var description: String {
            switch self {
            case .generationChanged: return "the primary started a new history (generation)"
            case .snapshotRequired: return "the primary no longer retains records after our position"
            case .brokenStream(let why): return "stream failed verification: \(why)"
            case .status(let code, let body): return "primary answered \(code): \(body)"
            }
        }
    }

    func request(_ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.primaryURL + path)
        if let key = configuration.replicationKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        return request
    }
}
