/// Why a replica is not following the primary right now, while it keeps its copy and retries.
/// Shown in the replica's status, health and metrics; logged once per change.
public struct ReplicaFault: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// 401/403: the primary refuses the replication key (e.g. rotated on one side only).
        case refused
        /// 5xx: the primary is up but cannot serve the request.
        case unavailable
        /// Connection refused, reset or timed out, or the stream went silent.
        case network
        /// The stream failed verification (checksum, chain, txid, generation).
        case brokenStream = "broken_stream"
        /// Any other status the protocol does not define.
        case unexpectedStatus = "unexpected_status"
        /// Applying or spooling locally failed (disk full, I/O error).
        case local
    }

    public var kind: Kind
    public var detail: String
    /// When this fault began (local clock, ms): the first failure of the current run.
    public var since: Int64
    /// Consecutive failed attempts so far.
    public var attempts: Int
    /// When the next attempt is due (local clock, ms).
    public var nextAttemptAt: Int64?

    public init(kind: Kind, detail: String, since: Int64, attempts: Int = 1, nextAttemptAt: Int64? = nil) {
        self.kind = kind
        self.detail = detail
        self.since = since
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
    }
}
