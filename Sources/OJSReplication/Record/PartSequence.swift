/// The continuity rule for transaction records, shared by every reader of records (the stream
/// decoder, the log's append, recovery and reads) so they agree on what may come next.
///
/// A transaction is one `transaction` record (part 0), or several records: parts 0…n−1 of
/// kind `transactionPart` and a last part of kind `transaction`, all with the same txid,
/// commit time, page size and database size, each chaining its checksum from the part before
/// (part 0 from the previous transaction). See docs/replication-protocol.md, "Transactions in
/// several records".
public struct PartSequence: Sendable, Equatable {
    /// A transaction whose first parts were accepted and whose last part has not arrived.
    public struct Open: Sendable, Equatable {
        public let txid: TxID
        public let commitTime: Int64
        public let pageSize: UInt32
        public let databasePages: UInt32
        /// The part that must come next.
        public var nextPart: UInt16
        /// Checksum of the last accepted part: what the next part chains from.
        public var chain: UInt32
    }

    public private(set) var open: Open?

    public init() {}

    public var isOpen: Bool { open != nil }

    /// Checks that the transaction record `header` continues a history whose last complete
    /// transaction is `lastTxid` with chain value `lastChecksum`. Returns true when it
    /// completes the transaction (the caller then moves to `header.txid`, `header.checksum`).
    /// On error the sequence is unchanged.
    public mutating func accept(_ header: RecordHeader, lastTxid: TxID, lastChecksum: UInt32) throws(RecordError) -> Bool {
        guard header.kind.carriesPages else {
            if let open { throw .incompleteTransaction(txid: open.txid, partsReceived: Int(open.nextPart)) }
            return false
        }
        let expectedTxid = lastTxid &+ 1
        guard header.txid == expectedTxid else { throw .unexpectedTxid(expected: expectedTxid, got: header.txid) }
        let expectedPart = open?.nextPart ?? 0
        guard header.part == expectedPart else { throw .unexpectedPart(txid: header.txid, expected: expectedPart, got: header.part) }
        let expectedPrevious = open?.chain ?? lastChecksum
        guard header.previousChecksum == expectedPrevious else {
            throw .chainBroken(txid: header.txid, expectedPrevious: expectedPrevious, found: header.previousChecksum)
        }
        if let open {
            if header.commitTime != open.commitTime { throw .partMismatch(txid: header.txid, part: header.part, "commit time differs from part 0") }
            if header.pageSize != open.pageSize { throw .partMismatch(txid: header.txid, part: header.part, "page size differs from part 0") }
            if header.databasePages != open.databasePages {
                throw .partMismatch(txid: header.txid, part: header.part, "database size differs from part 0")
            }
        }
        if header.kind == .transaction {
            open = nil
            return true
        }
        // The header check keeps `part` below UInt16.max for a transactionPart.
        open = Open(
            txid: header.txid,
            commitTime: header.commitTime,
            pageSize: header.pageSize,
            databasePages: header.databasePages,
            nextPart: header.part + 1,
            chain: header.checksum
        )
        return false
    }

    /// Forgets an incomplete transaction (the stream broke; it will be sent again whole).
    public mutating func abandon() { open = nil }
}
