/// One key as etcd stores it. Revisions are etcd's store revisions: `createRevision` is when
/// this incarnation of the key was created (0 never appears: an absent key has no value),
/// `modRevision` when it was last written; `lease` is 0 when the key is bound to no lease.
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var lease: Int64

    public init(key: String, value: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64, lease: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}
