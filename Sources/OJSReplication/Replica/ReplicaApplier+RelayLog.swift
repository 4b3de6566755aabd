import Foundation

extension ReplicaApplier {
    /// Makes the relay log end exactly at the position: a log ahead of it (a crash between
    /// fsyncing records and saving the position) is re-applied, one that is behind or follows
    /// another history (a lost unsynced tail, a snapshot installed just before a crash, a data
    /// directory from before relay logs) restarts at the position. Called on open and before
    /// an apply that finds them apart (an apply that failed halfway in this process).
    func reconcileRelayLog() throws {
        guard let start = position else { return }
        let end = relayLog.stats
        if end.generation == start.generation {
            if end.lastTxid == start.txid, end.lastChecksum == start.checksum { return }
            if end.lastTxid > start.txid, (try? relayLog.checksum(at: start.txid)) == start.checksum {
                do {
                    try applyFromRelayLog()
                } catch is ReplicationLogError {
                    // Unreadable past the position: the copy stays where it is and the log
                    // restarts there below.
                }
                if let now = position, now.txid == relayLog.lastTxid, now.checksum == relayLog.lastChecksum { return }
            }
        }
        guard let now = position else { return }
        try relayLog.reset(generation: now.generation, lastTxid: now.txid, checksum: now.checksum)
    }

    func reconcileIfNeeded() throws {
        guard let p = position else { return }
        let end = relayLog.stats
        if end.generation != p.generation || end.lastTxid != p.txid || end.lastChecksum != p.checksum { try reconcileRelayLog() }
    }

    /// Applies the relay log's transactions past the position, in batches of about
    /// `recoveryBatchBytes` written to the apply spool (so a crash here is recovered the same
    /// way, and a transaction stored in parts is applied one record at a time).
    private func applyFromRelayLog() throws {
        while let from = position, from.txid < relayLog.lastTxid {
            let records = try relayLog.records(after: from.txid, maxBytes: Self.recoveryBatchBytes)
            guard !records.isEmpty else { return }
            try SegmentIO.writeAtomically(records.flatMap(\.bytes), to: spoolURL.path, directory: dataDirectory.path)
            try applySpoolFile()
            try? FileManager.default.removeItem(at: spoolURL)
            // A spool that did not continue the position applies nothing: stop rather than loop.
            guard let reached = position, reached.txid > from.txid else { return }
        }
    }

    /// Deletes relay log segments past its retention, measured against the primary's commit
    /// clock. A failure only leaves the log larger; the next apply tries again.
    func trimRelayLog(now: Int64) {
        _ = try? relayLog.applyRetention(now: now)
    }
}
