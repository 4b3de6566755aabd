import AsyncHTTPClient
import Foundation

extension ReplicaTailer {
    /// How long the start-up check of an existing copy waits for the primary's answer: past it
    /// the copy is served as before (a primary that is down must not keep a replica dark).
    static let verifyTimeoutMs: Int64 = 5000

    /// Asks the primary, before the copy is served, whether it can stream from the copy's
    /// position — generation, txid and chain checksum. A copy the primary refuses (409: it
    /// holds transactions the primary lacks, e.g. an old primary's unshipped tail after a
    /// failover; 410: its position was trimmed) is discarded here, so `prepare` bootstraps
    /// before any read sees it. Any other answer, or none, keeps the copy: tailing then
    /// handles it as before.
    func verifyCopy() async {
        guard let position = applier.position else { return }
        guard let response = try? await client.execute(request(streamPath(from: position)), timeout: .milliseconds(Self.verifyTimeoutMs)) else {
            return
        }
        let outcome = ReplicationProtocol.outcome(status: Int(response.status.code))
        guard outcome == .historyDiverged || outcome == .positionTrimmed else { return }
        logger.warning(
            "replica discards a copy the primary refuses and bootstraps before serving",
            metadata: ["status": .stringConvertible(response.status.code), "txid": .stringConvertible(position.txid)]
        )
        if outcome == .historyDiverged { diverged.withLock { $0 = true } }
        applier.discardPosition()
    }

    /// The stream request from `position`: the copy's generation, txid and chain checksum there.
    func streamPath(from position: ReplicaPosition) -> String {
        ReplicationProtocol.Path.stream(
            after: position.txid,
            generation: position.generation,
            region: configuration.region,
            checksum: position.checksum
        )
    }
}
