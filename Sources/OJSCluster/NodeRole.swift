/// What a node says it is in its published record. Open-ended text so a newer node's role does
/// not make an older node's parser reject the record.
public struct NodeRole: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let primary = NodeRole(rawValue: "primary")
    public static let replica = NodeRole(rawValue: "replica")

    public var description: String { rawValue }
}
