/// Segment size and retention of a replica's relay log: the primary's defaults, so a promoted
/// copy keeps as much history for the replicas that follow it as the old primary did.
public struct RelayLogLimits: Sendable, Equatable {
    public var segmentBytes: Int
    public var retentionBytes: Int
    public var retentionAgeMs: Int64

    public init(
        segmentBytes: Int = ReplicationLog.defaultSegmentBytes,
        retentionBytes: Int = ReplicationLog.defaultRetentionBytes,
        retentionAgeMs: Int64 = ReplicationLog.defaultRetentionAgeMs
    ) {
        self.segmentBytes = segmentBytes
        self.retentionBytes = retentionBytes
        self.retentionAgeMs = retentionAgeMs
    }
}
