/// A position in the primary's history as clients see it in every answer: the txid as 16
/// hex digits, so bookmarks of one history sort as strings, then the history's generation.
/// A bookmark from another generation says nothing about this copy's history.
public struct Bookmark: Sendable, Equatable, Comparable {
    public var txid: Int64
    /// The first 8 hex digits of the generation (0s when replication is off).
    public var generation: String

    public init(txid: Int64, generation: String) {
        self.txid = txid
        self.generation = String(generation.filter { $0 != "-" }.prefix(8))
    }

    public var text: String {
        let hex = String(UInt64(max(0, txid)), radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + "-" + generation
    }

    public init?(text: String) {
        let parts = text.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 16, let txid = UInt64(parts[0], radix: 16), txid <= UInt64(Int64.max) else { return nil }
        self.txid = Int64(txid)
        self.generation = String(parts[1])
    }

    public static func < (lhs: Bookmark, rhs: Bookmark) -> Bool { lhs.txid < rhs.txid }
}
