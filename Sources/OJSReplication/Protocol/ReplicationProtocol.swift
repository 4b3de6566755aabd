import OJSCore
import OJSStore

/// A transaction id: the position of one committed transaction in a generation's history
/// (1, 2, 3… without gaps). One type for every txid in replication, so a position never
/// passes through a signed/unsigned conversion on its way from the log to the wire.
public typealias TxID = UInt64

/// The replication wire protocol (`docs/replication-protocol.md`), defined once: the primary's
/// routes (OJSServer) and the replica's tailer both build and read requests through this, so a
/// path, a media type or the meaning of a refusal cannot drift between the two sides.
public enum ReplicationProtocol {
    /// Request paths.
    public enum Path {
        public static let prefix = "/ojs/v1/replication/"
        public static let status = "/ojs/v1/replication/status"
        public static let digest = "/ojs/v1/replication/digest"
        public static let snapshot = "/ojs/v1/replication/snapshot"
        public static let stream = "/ojs/v1/replication/stream"
        /// Route pattern of the position report (`:region` is the replica's region).
        public static let positionRoute = "/ojs/v1/replication/replicas/:region/position"

        /// Where a replica in `region` posts its position.
        public static func position(region: String) -> String { "/ojs/v1/replication/replicas/\(region)/position" }

        /// Route pattern of the synchronous acknowledgement (`:region` is the replica's region).
        public static let ackRoute = "/ojs/v1/replication/replicas/:region/ack"

        /// Where a replica in `region` acknowledges what it durably received, when the stream
        /// asked for acknowledgements (`Header.syncReplicas`).
        public static func ack(region: String) -> String { "/ojs/v1/replication/replicas/\(region)/ack" }

        /// The stream request for a replica at `after` on `generation`, whose record chain
        /// there is `checksum` (nil: a replica that does not say, before the divergence check).
        public static func stream(after: TxID, generation: Generation, region: String, checksum: UInt32? = nil) -> String {
            let path = "\(stream)?\(Query.after)=\(after)&\(Query.generation)=\(generation.text)&\(Query.region)=\(region)"
            return checksum.map { path + "&\(Query.checksum)=\($0)" } ?? path
        }
    }

    /// Query parameters of the stream request.
    public enum Query {
        public static let after = "after"
        public static let generation = "generation"
        public static let region = "region"
        /// The chain checksum after `after` (decimal): lets the primary tell a copy that
        /// diverged within the same generation (an old primary's unshipped tail, overwritten
        /// by a promoted replica's own commits) from one that follows it.
        public static let checksum = "checksum"
    }

    /// Content types of the two binary bodies.
    public enum MediaType {
        public static let records = "application/vnd.ojs-edge.records"
        public static let snapshot = "application/vnd.ojs-edge.snapshot"
    }

    /// Response headers.
    public enum Header {
        public static let snapshotTxid = "OJS-Snapshot-Txid"
        /// The snapshot's id, which a resumed download names (`?id=…&from_chunk=…`).
        public static let snapshotId = "OJS-Snapshot-Id"
        /// On a stream response: the primary answers writes only once this many replicas
        /// acknowledged them. A replica that sees it (any value ≥ 1) applies each record as
        /// it arrives, without the batching window, and posts `Ack` after every apply.
        public static let syncReplicas = "OJS-Sync-Replicas"
    }

    /// The HTTP statuses of the two refusals that let a replica discard its copy. They are part
    /// of this protocol (a replica acts on the status alone), so they are defined here, and
    /// the server's error mapping uses these same values for their codes.
    public enum RefusalStatus {
        /// `x_generation_mismatch`.
        public static let generationMismatch = 409
        /// `x_snapshot_required`.
        public static let snapshotRequired = 410
    }

    /// The HTTP status of each refusal to stream.
    public static func status(for refusal: StreamRefusal) -> Int {
        switch errorCode(for: refusal) {
        case .snapshotRequired: return RefusalStatus.snapshotRequired
        default: return RefusalStatus.generationMismatch
        }
    }

    /// The OJS error code the primary answers for each refusal to stream (statuses in
    /// `RefusalStatus`).
    public static func errorCode(for refusal: StreamRefusal) -> OJSError.Code {
        switch refusal {
        case .generationMismatch, .ahead, .diverged: return .generationMismatch
        case .snapshotRequired: return .snapshotRequired
        }
    }

    /// What a replica makes of a non-200 answer from the primary. Only the two refusals that
    /// say the replica's history is unusable (`x_generation_mismatch`, `x_snapshot_required`)
    /// allow it to discard its copy; every other status is a fault it waits out.
    public static func outcome(status: Int) -> ReplicaOutcome {
        switch status {
        case RefusalStatus.generationMismatch: return .historyDiverged
        case RefusalStatus.snapshotRequired: return .positionTrimmed
        case 401, 403: return .fault(.refused)
        case 500...599: return .fault(.unavailable)
        default: return .fault(.unexpectedStatus)
        }
    }

    /// The body of `POST …/replicas/:region/position`.
    public struct PositionReport: Sendable, Equatable {
        public var appliedTxid: TxID
        public var state: String
        public var generation: String?

        public init(appliedTxid: TxID, state: String, generation: String?) {
            self.appliedTxid = appliedTxid
            self.state = state
            self.generation = generation
        }

        /// Position reports are tiny; the route refuses anything larger.
        public static let maxBodyBytes = 4096

        public var json: JSONValue {
            ["applied_txid": .int(Int64(clamping: appliedTxid)), "state": .string(state), "generation": .string(generation ?? "")]
        }

        /// Parses a report; nil names the field that is missing or wrong.
        public static func parse(_ body: JSONValue) -> Result<PositionReport, ParseFailure> {
            guard let applied = body["applied_txid"]?.intValue, applied >= 0 else {
                return .failure(ParseFailure(field: "applied_txid", message: "Field 'applied_txid' must be a non-negative integer."))
            }
            let generation = body["generation"]?.stringValue
            return .success(
                PositionReport(
                    appliedTxid: TxID(applied),
                    state: body["state"]?.stringValue ?? "streaming",
                    generation: generation?.isEmpty == true ? nil : generation
                )
            )
        }

        public struct ParseFailure: Error, Sendable {
            public let field: String
            public let message: String
        }
    }
}

extension ReplicationProtocol {
    /// The body of `POST …/replicas/:region/ack`: every transaction up to `durableTxid` of
    /// `generation` is on the replica's disk (applied, after an fsync), so the primary may
    /// count it toward the synchronous quorum.
    public struct Ack: Sendable, Equatable {
        public var durableTxid: TxID
        public var generation: String

        public init(durableTxid: TxID, generation: String) {
            self.durableTxid = durableTxid
            self.generation = generation
        }

        /// Acknowledgements are tiny; the route refuses anything larger.
        public static let maxBodyBytes = 1024

        public var json: JSONValue { ["durable_txid": .int(Int64(clamping: durableTxid)), "generation": .string(generation)] }

        /// Parses an acknowledgement, or says which field is missing or wrong.
        public static func parse(_ body: JSONValue) -> Result<Ack, PositionReport.ParseFailure> {
            guard let txid = body["durable_txid"]?.intValue, txid >= 0 else {
                return .failure(.init(field: "durable_txid", message: "Field 'durable_txid' must be a non-negative integer."))
            }
            guard let generation = body["generation"]?.stringValue, !generation.isEmpty else {
                return .failure(.init(field: "generation", message: "Field 'generation' must name the history the txid belongs to."))
            }
            return .success(Ack(durableTxid: TxID(txid), generation: generation))
        }
    }
}

/// How a replica reacts to a failed request to the primary.
public enum ReplicaOutcome: Sendable, Equatable {
    /// `x_generation_mismatch`: the copy follows another history; discard it and bootstrap.
    case historyDiverged
    /// `x_snapshot_required`: the records after the copy's position are gone; bootstrap.
    case positionTrimmed
    /// Anything else: keep the copy and retry with backoff.
    case fault(ReplicaFault.Kind)
}
