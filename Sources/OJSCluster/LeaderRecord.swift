import OJSCore

/// The leader key's record (`/ojs-edge/<cluster>/leader`), as JSON: `{"name","url","epoch","lease"}`.
///
/// `epoch` is the leader key's create revision in etcd. etcd's revision counts every change to
/// the store, so each new leader key gets a higher one than any before it, cluster-wide: a
/// fencing token that never repeats and never goes back, with no counter to keep. It is read
/// from etcd's metadata (the JSON's `epoch` is a copy written right after the create, for
/// people reading the key with etcdctl).
public struct LeaderRecord: Sendable, Equatable {
    public var name: String
    public var url: String
    public var epoch: Int64
    public var lease: Int64

    public init(name: String, url: String, epoch: Int64, lease: Int64) {
        self.name = name
        self.url = url
        self.epoch = epoch
        self.lease = lease
    }

    public var json: JSONValue {
        ["name": .string(name), "url": .string(url), "epoch": .int(epoch), "lease": .string(String(lease))]
    }

    /// Parses the stored key; epoch and lease from etcd's metadata. Nil when it is not a record.
    public init?(_ kv: EtcdKeyValue) {
        guard let json = try? JSONParser.parse(kv.value), let name = json["name"]?.stringValue, let url = json["url"]?.stringValue
        else { return nil }
        self.init(name: name, url: url, epoch: kv.createRevision, lease: kv.lease)
    }
}
