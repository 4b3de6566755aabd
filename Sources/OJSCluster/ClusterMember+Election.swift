import OJSCore

/// Leader election: campaign, resign, and the leader watch.
extension ClusterMember {
    /// Tries to become leader with this node at `position`. Returns the leader record with this
    /// node as leader iff
    /// (a) there is no leader key,
    /// (b) no live node's published position outranks `position` (`NodePosition.isOutranked(by:)`), and
    /// (c) the create-if-absent txn on the leader key, bound to this node's current lease, succeeded.
    /// Otherwise nil. Equally new candidates race on the txn: etcd serializes it, one wins.
    ///
    /// The epoch is the leader key's create revision (`LeaderRecord`). On success the fence
    /// carries it (`fence.leaderEpoch(now:)`) for as long as this lease stays valid.
    ///
    /// The position is published first, so a rival checking (b) at the same moment sees it.
    /// (b) and (c) are not one atomic step: a node could publish a newer position in between.
    /// Without a primary no txid advances, so in a failover that window is empty in practice.
    public func campaign(position: NodePosition) async throws -> LeaderRecord? {
        guard !stopped else { throw ClusterMemberError.stopped }
        guard let id = currentLease, fence.isValid(now: config.monotonicNow()) else { throw ClusterMemberError.noLease }
        if let leader = try await etcd.get(keys.leader) {
            // Still ours (a retried campaign): report it rather than refuse.
            if leader.lease == id, let record = LeaderRecord(leader) {
                fence.lead(epoch: record.epoch, lease: id)
                return record
            }
            return nil
        }
        try await publish(position: position)
        let rivals = try await liveNodes().filter { $0.name != config.name }
        if let ahead = rivals.first(where: { position.isOutranked(by: $0.position) }) {
            logger.info(
                "not campaigning: a live node is ahead",
                metadata: ["node": "\(ahead.name)", "its_txid": "\(ahead.position.txid)", "our_txid": "\(position.txid)"]
            )
            return nil
        }
        var record = LeaderRecord(name: config.name, url: config.advertiseURL, epoch: 0, lease: id)
        let outcome = try await etcd.createIfAbsent(keys.leader, JSONWriter.bytes(record.json), lease: id)
        guard outcome.created else { return nil }
        record.epoch = outcome.revision
        fence.lead(epoch: record.epoch, lease: id)
        // The epoch is only known once created; copy it into the value for etcdctl readers.
        // Conditional on the same incarnation and lease, so a vanished key is not revived.
        _ = try? await etcd.putIfHeld(keys.leader, JSONWriter.bytes(record.json), lease: id, createRevision: record.epoch)
        logger.notice("elected leader", metadata: ["epoch": "\(record.epoch)", "lease": "\(id)"])
        return record
    }

    /// Gives up leadership: the fence stops carrying the epoch first (no commit after this
    /// returns or throws), then the leader key is deleted if it is still bound to this lease.
    /// Returns whether a key was deleted.
    @discardableResult
    public func resign() async throws -> Bool {
        fence.abdicate()
        guard let id = currentLease else { return false }
        return try await etcd.deleteIfLease(keys.leader, lease: id)
    }

    /// The leader as it changes: the current one first (once etcd answers), then each change
    /// (a new epoch, or no leader). Read every `config.pollMs`; a failed read yields nothing
    /// (unknown is not "no leader"). Each call starts its own poller; it ends when the stream's
    /// consumer stops.
    public nonisolated func leaderChanges() -> AsyncStream<LeaderRecord?> {
        let etcd = self.etcd
        let key = keys.leader
        let interval = Duration.milliseconds(config.pollMs)
        let (stream, sink) = AsyncStream.makeStream(of: LeaderRecord?.self, bufferingPolicy: .bufferingNewest(16))
        let task = Task {
            var last: LeaderRecord?? = .none
            while !Task.isCancelled {
                do {
                    let now = try await etcd.get(key).flatMap(LeaderRecord.init)
                    if last != .some(now) {
                        last = .some(now)
                        sink.yield(now)
                    }
                } catch {
                    // Unknown is not "no leader": nothing is yielded until etcd answers again.
                }
                try? await Task.sleep(for: interval)
            }
            sink.finish()
        }
        sink.onTermination = { _ in task.cancel() }
        return stream
    }
}
