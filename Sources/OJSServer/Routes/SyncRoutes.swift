import Hummingbird
import OJSCore
import OJSReplication

/// Synchronous replication on the primary: the acknowledgement route replicas post to, and
/// the `sync` object of the replication status (`docs/replication-protocol.md`).
extension OJSAPI {
    /// `POST /ojs/v1/replication/replicas/:region/ack`: the replica in `region` durably holds
    /// every transaction up to `durable_txid`. Accepted only for the current history, for a
    /// txid this primary has shipped, and from a region with an open stream (409 otherwise,
    /// and nothing is recorded). Without `--sync-replicas` it is accepted and ignored.
    func addAckRoute(_ router: Router<Context>, source: ReplicationSource) {
        router.post(RouterPath(ReplicationProtocol.Path.ackRoute)) { request, context in
            let region = try Self.parameter(context, "region")
            let body = try await JSONBody.object(request, limit: ReplicationProtocol.Ack.maxBodyBytes)
            let ack: ReplicationProtocol.Ack
            switch ReplicationProtocol.Ack.parse(body) {
            case .success(let parsed): ack = parsed
            case .failure(let failure): throw OJSError.invalid(failure.message, field: failure.field)
            }
            let generation = source.log.generation
            guard ack.generation == generation.text else {
                throw OJSError(
                    .generationMismatch,
                    "The primary's history is generation \(generation.text).",
                    details: ["generation": .string(generation.text)]
                )
            }
            let last = source.log.lastTxid
            guard ack.durableTxid <= last else {
                throw OJSError.invalid("Field 'durable_txid' is past this primary's last txid \(last).", field: "durable_txid")
            }
            guard let sync else { return JSONResponse.value(.ok, ["region": .string(region), "recorded": false]) }
            guard sync.acknowledge(region: region, durableTxid: ack.durableTxid) else {
                throw OJSError(.conflict, "No replication stream is open for region '\(region)': open one before acknowledging.")
            }
            return JSONResponse.value(.ok, ["region": .string(region), "recorded": true])
        }
    }

    /// The `sync` object of `GET /ojs/v1/replication/status` on the primary.
    static func syncJSON(_ snapshot: SyncQuorum.Snapshot?, policy: SyncPolicy) -> JSONValue {
        [
            "required": .int(Int64(policy.replicas)),
            "timeout_ms": .int(Int64(policy.timeoutMs)),
            "degrade": .bool(policy.degrade),
            "connected": .int(Int64(snapshot?.connected ?? 0)),
            "quorum_txid": snapshot?.quorumTxid.map { .int(Int64(clamping: $0)) } ?? .null,
            "degraded": .bool(snapshot?.degraded ?? false),
            "degraded_through_txid": snapshot?.degradedThroughTxid.map { .int(Int64(clamping: $0)) } ?? .null,
            "degraded_episodes": .int(Int64(snapshot?.degradedEpisodes ?? 0)),
        ]
    }
}
