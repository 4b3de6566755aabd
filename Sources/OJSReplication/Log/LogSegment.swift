/// In-memory index of one segment file. Txids inside a segment are contiguous, so record `i`
/// is txid `firstTxid + i` and its byte range is found without touching the file — which keeps
/// `records(after:)` and `checksum(at:)` from rescanning headers on every call.
///
/// A sealed segment found when the log opens is not indexed yet (`pendingLastTxid`): opening
/// reads only its first header, and the index is built, and the segment verified, the first
/// time something needs it (`LogState.index`). Reading every header of 256 MiB of small records
/// at open was most of a cold start (`docs/benchmarks.md`, "Cold start").
struct LogSegment: Sendable {
    static let suffix = ".ojsr"
    static let digits = 20

    let firstTxid: TxID
    let path: String
    /// Start offset of each record; never empty for an indexed segment the log holds, except
    /// the newest while it holds only the first parts of a transaction. Empty until indexed.
    var offsets: [Int]
    /// Bytes in the file, which always ends on a record boundary.
    var size: Int
    /// Newest commit time in the segment; max rather than last because clocks can step back.
    /// Meaningless until indexed.
    var newestCommitTime: Int64
    /// What the first record chains from: the chain value at `firstTxid - 1`.
    var firstPreviousChecksum: UInt32
    /// For a segment not indexed yet: what the next segment's first record chains from, which
    /// indexing checks this segment ends with.
    var lastChecksum: UInt32
    /// Set while the segment is not indexed: the last txid it must hold (the next segment's
    /// first txid minus one), which indexing checks.
    var pendingLastTxid: TxID?

    var isIndexed: Bool { pendingLastTxid == nil }
    /// Whether the segment holds at least one whole transaction.
    var holdsTransactions: Bool { !isIndexed || !offsets.isEmpty }
    var lastTxid: TxID { pendingLastTxid ?? firstTxid + UInt64(offsets.count) - 1 }

    func contains(_ txid: TxID) -> Bool { txid >= firstTxid && txid <= lastTxid }

    /// Byte range of record `index`.
    func range(ofRecord index: Int) -> Range<Int> {
        offsets[index]..<(index + 1 < offsets.count ? offsets[index + 1] : size)
    }

    static func fileName(firstTxid: TxID) -> String {
        let number = String(firstTxid)
        return String(repeating: "0", count: max(0, digits - number.count)) + number + suffix
    }

    /// The first txid encoded in a segment file name, or nil for any other file.
    static func parseFileName(_ name: String) -> UInt64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count == digits, stem.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return UInt64(stem)
    }
}
