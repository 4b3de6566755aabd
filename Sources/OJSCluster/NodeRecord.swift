import OJSCore

/// A node's published record (`/ojs-edge/<cluster>/nodes/<name>`), as JSON:
/// `{"name","url","role","generation","txid","checksum","updated_at"}`. `lease` and
/// `modRevision` come from etcd, not the JSON.
public struct NodeRecord: Sendable, Equatable {
    public var name: String
    public var url: String
    public var position: NodePosition
    /// Wall-clock time of the publish (RFC 3339), for operators only: nothing compares it.
    public var updatedAt: String
    public var lease: Int64
    public var modRevision: Int64

    public init(name: String, url: String, position: NodePosition, updatedAt: String, lease: Int64 = 0, modRevision: Int64 = 0) {
        self.name = name
        self.url = url
        self.position = position
        self.updatedAt = updatedAt
        self.lease = lease
        self.modRevision = modRevision
    }

    public var json: JSONValue {
        [
            "name": .string(name), "url": .string(url), "role": .string(position.role.rawValue),
            "generation": .string(position.generation), "txid": .int(Int64(truncatingIfNeeded: position.txid)),
            "checksum": .int(Int64(position.checksum)), "updated_at": .string(updatedAt),
        ]
    }

    /// Parses a stored record; nil when it is not one (written by something else).
    public init?(_ kv: EtcdKeyValue) {
        guard let json = try? JSONParser.parse(kv.value), let name = json["name"]?.stringValue, let url = json["url"]?.stringValue,
            let role = json["role"]?.stringValue, let generation = json["generation"]?.stringValue,
            let txid = json["txid"]?.intValue, txid >= 0, let checksum = json["checksum"]?.intValue,
            let checksum32 = UInt32(exactly: checksum)
        else { return nil }
        let position = NodePosition(generation: generation, txid: UInt64(txid), checksum: checksum32, role: NodeRole(rawValue: role))
        self.init(
            name: name,
            url: url,
            position: position,
            updatedAt: json["updated_at"]?.stringValue ?? "",
            lease: kv.lease,
            modRevision: kv.modRevision
        )
    }
}
