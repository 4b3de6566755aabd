import Foundation
import Logging
import OJSCore

/// Membership and leader election for one node, over etcd.
///
/// `start()` grants a lease and keeps it alive every third of its TTL; `fence` says, without
/// awaiting this actor, until when the lease is safely alive (see `LeaseFence`). When etcd says
/// the lease is gone, or no keep-alive is acknowledged before the fence's deadline, the member
/// reports `.lost` on `events`, grants a fresh lease and republishes its last position. A lost
/// lease is never used again, for leadership or anything else.
///
/// The node's record and the leader key are both bound to the lease: a node that stops keeping
/// it alive drops out of `liveNodes()` and out of leadership when etcd expires it.
public actor ClusterMember {
    public nonisolated let config: ClusterMemberConfig
    public nonisolated let keys: ClusterKeys
    /// The fencing deadline of the current lease and the epoch this member leads under.
    public nonisolated let fence = LeaseFence()
    /// Lease grants and losses, in order. One consumer.
    public nonisolated let events: AsyncStream<MemberEvent>

    let etcd: EtcdClient
    let logger: Logger
    private let eventSink: AsyncStream<MemberEvent>.Continuation

    /// The current lease and the TTL (ms) the fence counts with; nil between a loss and the next grant.
    private(set) var lease: (id: Int64, ttlMs: Int64)?
    /// The last position published, republished under each new lease.
    var lastPosition: NodePosition?
    /// Leases lost while etcd was out of reach, revoked once it answers again.
    private var abandoned: [Int64] = []
    private var keepAliveTask: Task<Void, Never>?
    private(set) var stopped = false
    /// A `start()` is granting the first lease (a second call meanwhile does nothing).
    private var starting = false

    public init(config: ClusterMemberConfig, etcd: EtcdClient, logger: Logger = Logger(label: "ojs.cluster")) {
        self.config = config
        self.keys = ClusterKeys(cluster: config.cluster)
        self.etcd = etcd
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(of: MemberEvent.self, bufferingPolicy: .bufferingNewest(64))
    }

    /// The current lease id; nil before `start()` and between a loss and the next grant.
    public var currentLease: Int64? { lease?.id }

    /// Grants the lease and starts keeping it alive. Throws what the grant threw (etcd
    /// unreachable…) or `invalidConfiguration`; then `start()` may be called again. Call
    /// `stop()` when done: the keep-alive task holds the member until then.
    public func start() async throws {
        guard !stopped else { throw ClusterMemberError.stopped }
        guard keepAliveTask == nil, !starting else { return }
        try config.validate()
        starting = true
        defer { starting = false }
        try await acquireLease()
        keepAliveTask = Task { await self.keepAliveLoop() }
    }

    /// Stops keeping the lease alive and revokes it, so this node's keys (its record and the
    /// leader key, if it holds it) vanish now rather than at expiry.
    public func stop() async {
        guard !stopped else { return }
        stopped = true
        keepAliveTask?.cancel()
        keepAliveTask = nil
        fence.invalidate()
        if let id = lease?.id { try? await etcd.revoke(lease: id) }
        lease = nil
        eventSink.finish()
    }

    /// Publishes this node's position under its lease (one put). Cheap enough for every
    /// 100–200 ms.
    public func publish(position: NodePosition) async throws {
        guard !stopped else { throw ClusterMemberError.stopped }
        lastPosition = position
        guard let id = lease?.id else { throw ClusterMemberError.noLease }
        let record = NodeRecord(
            name: config.name,
            url: config.advertiseURL,
            position: position,
            updatedAt: Timestamp.format(millis: Int64(Date().timeIntervalSince1970 * 1000))
        )
        try await etcd.put(keys.node(config.name), JSONWriter.bytes(record.json), lease: id)
    }

    /// The nodes whose leases are alive, in name order (records that do not parse are skipped).
    public func liveNodes() async throws -> [NodeRecord] {
        try await etcd.list(prefix: keys.nodesPrefix).compactMap(NodeRecord.init)
    }

    /// The leader key, or nil when nobody leads.
    public func currentLeader() async throws -> LeaderRecord? {
        try await etcd.get(keys.leader).flatMap(LeaderRecord.init)
    }

    // MARK: - Lease

    private func acquireLease() async throws {
        let sent = config.monotonicNow()
        let granted = try await etcd.grant(ttlSeconds: config.leaseSeconds)
        let ttlMs = min(Int64(config.leaseTTLms), granted.ttlSeconds * 1000)
        lease = (granted.lease, ttlMs)
        fence.arm(lease: granted.lease, until: sent + ttlMs - ClusterMemberConfig.fenceMarginMs(ttlMs: ttlMs))
        eventSink.yield(.leaseGranted(lease: granted.lease))
        logger.info("etcd lease granted", metadata: ["lease": "\(granted.lease)", "ttl_ms": "\(ttlMs)"])
    }

    private func keepAliveLoop() async {
        var delayMs = Int64(0)
        while !Task.isCancelled, !stopped {
            if delayMs > 0 { try? await Task.sleep(for: .milliseconds(delayMs)) }
            guard !Task.isCancelled, !stopped else { return }
            guard let current = lease else {
                delayMs = await regrant() ? 0 : Int64(ClusterMemberConfig.keepAliveRetryMs)
                continue
            }
            let sent = config.monotonicNow()
            let intervalMs = max(1, current.ttlMs / 3)
            // A late answer is no use once the fence has closed: bound the attempt by what is left.
            let leftMs = max(1, fence.deadline - sent)
            let timeout = min(etcd.requestTimeout, .milliseconds(leftMs))
            do {
                let ttlSeconds = try await etcd.keepAliveOnce(lease: current.id, timeout: timeout)
                let ttlMs = min(current.ttlMs, ttlSeconds * 1000)
                fence.extend(lease: current.id, until: sent + ttlMs - ClusterMemberConfig.fenceMarginMs(ttlMs: ttlMs))
                delayMs = max(0, intervalMs - (config.monotonicNow() - sent))
            } catch EtcdError.leaseNotFound {
                lose(current.id, reason: .expired)
                delayMs = 0
            } catch {
                if config.monotonicNow() >= fence.deadline {
                    lose(current.id, reason: .keepAliveTimedOut)
                    delayMs = 0
                } else {
                    logger.warning("etcd keep-alive failed", metadata: ["lease": "\(current.id)", "error": "\(error)"])
                    delayMs = Int64(ClusterMemberConfig.keepAliveRetryMs)
                }
            }
        }
    }

    /// Drops a lost lease: the fence closes first (the writer stops), then the event.
    private func lose(_ id: Int64, reason: MemberEvent.LossReason) {
        guard lease?.id == id else { return }
        fence.invalidate()
        lease = nil
        logger.warning("etcd lease lost", metadata: ["lease": "\(id)", "reason": "\(reason)"])
        eventSink.yield(.lost(lease: id, reason: reason))
        // If etcd still has it (only the link was lost), it is ended once etcd answers again,
        // so its keys do not linger until expiry.
        if reason == .keepAliveTimedOut { abandoned.append(id) }
    }

    /// Grants a fresh lease and republishes the last position; false when etcd is still away.
    private func regrant() async -> Bool {
        do {
            try await acquireLease()
        } catch {
            logger.debug("etcd lease grant failed", metadata: ["error": "\(error)"])
            return false
        }
        for id in abandoned { try? await etcd.revoke(lease: id) }
        abandoned = []
        if let position = lastPosition {
            do { try await publish(position: position) } catch {
                logger.warning("republish after a new lease failed", metadata: ["error": "\(error)"])
            }
        }
        return true
    }
}
