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
        /// rarely under load (the first record after a quiet period applies at once).
        public var batchWindowMs: Int = 10
        /// Reconnect when nothing (not even a heartbeat) arrived for this long.
        public var idleTimeoutMs: Int = 5000
        public var maxBackoffMs: Int = 5000
        /// Named in the stream request and in position reports, so the primary can tell
        /// replicas apart.
        public var region: String
        /// How often the applied position is reported to the primary.
        public var reportIntervalMs: Int = 1000
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

    /// Bootstraps if needed; returns once the copy can serve reads.
    public func prepare() async throws {
        var backoff = 100
        while !applier.hasCopy {
            do {
                try await bootstrap()
            } catch {
                logger.warning("bootstrap failed", metadata: ["error": .string("\(error)")])
                status.update { $0.lastError = "\(error)" }
                try await Task.sleep(for: .milliseconds(backoff))
                backoff = min(backoff * 2, configuration.maxBackoffMs)
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
    /// region come from these reports.
    func reportForever() async {
        while !Task.isCancelled {
            _ = await applied.wait(atLeast: Int64(status.current.appliedTxid) + 1, timeout: .milliseconds(configuration.reportIntervalMs))
            let s = status.current
            var r = request("/ojs/v1/replication/replicas/\(configuration.region)/position")
            r.method = .POST
            r.headers.add(name: "Content-Type", value: "application/json")
            let body = #"{"applied_txid":\#(s.appliedTxid),"state":"\#(s.state.rawValue)","generation":"\#(s.generation ?? "")"}"#
            r.body = .bytes(ByteBuffer(string: body))
            _ = try? await client.execute(r, timeout: .seconds(2))
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    func tailForever() async {
        var backoff = 100
        while !Task.isCancelled {
            do {
                if !applier.hasCopy { try await bootstrap() }
                try await tail()
                backoff = 100
            } catch let refusal as TailError {
                logger.warning("replica re-bootstraps", metadata: ["reason": .string("\(refusal)")])
                if case .generationChanged = refusal { diverged.withLock { $0 = true } }
                applier.discardPosition()
                backoff = 100
                continue
            } catch is CancellationError {
                return
            } catch {
                let now = clock()
                status.update {
                    $0.state = .disconnected
                    $0.lastError = "\(error)"
                    if error is StreamEnded { $0.closedByPrimaryAt = now }
                }
                logger.info("replication stream interrupted", metadata: ["error": .string("\(error)")])
            }
            try? await Task.sleep(for: .milliseconds(backoff))
            backoff = min(backoff * 2, configuration.maxBackoffMs)
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
