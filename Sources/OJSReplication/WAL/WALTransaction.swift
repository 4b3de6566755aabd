/// One committed write transaction recovered from the WAL: the final image of every page it
/// wrote, and the database size it committed. This is exactly what a replica needs to reach
/// the same state, independent of how the primary got there (spills, in-place rewrites).
public struct WALTransaction: Sendable, Equatable {
    /// Page number (1-based) to its image, `pageSize` bytes each. When a transaction wrote a
    /// page more than once before its commit frame, only the last image is kept. Pages beyond
    /// `databasePages` are dropped: they no longer exist once the transaction commits.
    public let pages: [UInt32: [UInt8]]
    /// Database size in pages after the commit (from the commit frame's header).
    public let databasePages: UInt32
    public let pageSize: UInt32

    public init(pages: [UInt32: [UInt8]], databasePages: UInt32, pageSize: UInt32) {
        self.pages = pages
        self.databasePages = databasePages
        self.pageSize = pageSize
    }
}

/// A committed transaction located in the WAL but not read: for each page, the file offset of
/// the frame holding its last image. Capture reads the images part by part from this, so a
/// transaction of any size is shipped without holding all its pages in memory.
public struct WALTransactionIndex: Sendable, Equatable {
    public let frameOffsets: [UInt32: Int64]
    public let databasePages: UInt32
    public let pageSize: UInt32
}

extension WALTransactionIndex {
    /// Several committed WAL transactions as the one change they add up to: each page's last
    /// image wins, and the database size is the last transaction's.
    ///
    /// A commit that changed no row (a `DELETE` of an empty table, which still rewrites its
    /// root page) gets no txid, so its frames are not captured on their own. They are folded
    /// into the next captured transaction, which keeps every replica's pages identical to the
    /// primary's. Nil when there is nothing.
    public static func merged(_ transactions: [WALTransactionIndex]) -> WALTransactionIndex? {
        guard let last = transactions.last else { return nil }
        guard transactions.count > 1 else { return last }
        var offsets: [UInt32: Int64] = [:]
        for transaction in transactions {
            offsets.merge(transaction.frameOffsets) { _, later in later }
        }
        // Pages past the final size were truncated away by a later transaction.
        offsets = offsets.filter { $0.key <= last.databasePages }
        return WALTransactionIndex(frameOffsets: offsets, databasePages: last.databasePages, pageSize: last.pageSize)
    }
}
