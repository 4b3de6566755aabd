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

        public init(primaryURL: String, replicationKey: String? = nil) {
            self.primaryURL = primaryURL.hasSuffix("/") ? String(primaryURL.dropLast()) : primaryURL
            self.replicationKey = replicationKey
        }
    }

    public let applier: ReplicaApplier
    public let status = ReplicaStatusBox()
    /// The applied txid, for bookmark waits.
    public let applied = PositionBroadcaster()
    /// Set when the local copy belongs to another history: it must not serve reads.
    public let diverged = Mutex(false)
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

    /// Tails forever (until cancelled).
    public func run() async {
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
                status.update {
                    $0.state = .disconnected
                    $0.lastError = "\(error)"
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

    /// Fetches a snapshot and installs it.
    func bootstrap() async throws {
        status.update { $0.state = .bootstrapping }
        let response = try await client.execute(request("/ojs/v1/replication/snapshot"), timeout: .seconds(300))
        let body = try await response.body.collect(upTo: 1 << 34)
        guard response.status == .ok else { throw TailError.status(Int(response.status.code), String(buffer: body)) }
        let snapshot = try Snapshot.decode(Array(buffer: body))
        try await Blocking.run { try self.applier.install(snapshot) }
        diverged.withLock { $0 = false }
        applied.reset(to: Int64(snapshot.txid))
        status.update {
            $0.bootstraps += 1
            $0.appliedTxid = snapshot.txid
            $0.primaryTxid = max($0.primaryTxid, snapshot.txid)
            $0.generation = snapshot.generation.text
            $0.oldestPendingCommit = nil
            $0.lastContact = clock()
        }
        logger.notice("replica bootstrapped", metadata: ["txid": .stringConvertible(snapshot.txid), "generation": .string(snapshot.generation.text)])
    }
}
