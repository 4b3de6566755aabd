/// The etcd keys of one cluster, defined once:
///
///     /ojs-edge/<cluster>/nodes/<name>   a node's published record (NodeRecord JSON)
///     /ojs-edge/<cluster>/leader         the leader (LeaderRecord JSON)
///
/// Both are bound to the writing node's lease, so they vanish when it stops keeping it alive.
public struct ClusterKeys: Sendable, Equatable {
    public static let root = "/ojs-edge/"
    /// Longest cluster or node name: region names are short; this only keeps keys bounded.
    public static let maxNameBytes = 128

    public let cluster: String
    public init(cluster: String) { self.cluster = cluster }

    public var prefix: String { Self.root + cluster + "/" }
    public var leader: String { prefix + "leader" }
    public var nodesPrefix: String { prefix + "nodes/" }
    public func node(_ name: String) -> String { nodesPrefix + name }

    /// Whether `text` can be a cluster or node name: non-empty, at most 128 bytes, letters,
    /// digits, `-`, `_` and `.` only (no `/`, which would change the key's shape).
    public static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maxNameBytes
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || Array("-_.".utf8).contains(byte)
            }
    }
}
