/// One database page image as shipped: SQLite page numbers start at 1.
public struct Page: Sendable, Equatable {
    public let number: UInt32
    public let data: [UInt8]

    public init(number: UInt32, data: [UInt8]) {
        self.number = number
        self.data = data
    }
}

/// A decoded replication record: either one committed transaction (the final image of every
/// page it changed) or a heartbeat that only reports the primary's position and clock.
public struct Record: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// A whole transaction, or the last part of one shipped in several records.
        case transaction = 1
        case heartbeat = 2
        /// A part of a transaction too large for one record, with more parts to follow; the
        /// transaction ends with a `transaction` record of the same txid.
        case transactionPart = 3

        /// Carries page images (every kind but the heartbeat).
        public var carriesPages: Bool { self != .heartbeat }
    }

    public var kind: Kind
    public var generation: Generation
    /// For a transaction, its own number (1, 2, 3… without gaps); for a heartbeat, the
    /// primary's latest transaction id.
    public var txid: TxID
    /// Index of this record among its transaction's records (0 for a transaction shipped
    /// whole, and for heartbeats).
    public var part: UInt16 = 0
    /// Unix milliseconds: the commit time, or for a heartbeat the primary's clock when sent.
    public var commitTime: Int64
    public var pageSize: UInt32
    /// Database size in pages after this transaction.
    public var databasePages: UInt32
    /// Ascending by page number, each number at most once, each image exactly `pageSize` bytes.
    public var pages: [Page]

    public init(
        kind: Kind,
        generation: Generation,
        txid: TxID,
        commitTime: Int64,
        pageSize: UInt32,
        databasePages: UInt32,
        pages: [Page]
    ) {
        self.kind = kind
        self.generation = generation
        self.txid = txid
        self.commitTime = commitTime
        self.pageSize = pageSize
        self.databasePages = databasePages
        self.pages = pages
    }

    public static func transaction(
        generation: Generation,
        txid: TxID,
        commitTime: Int64,
        pageSize: UInt32,
        databasePages: UInt32,
        pages: [Page]
    ) -> Record {
        Record(
            kind: .transaction,
            generation: generation,
            txid: txid,
            commitTime: commitTime,
            pageSize: pageSize,
            databasePages: databasePages,
            pages: pages
        )
    }

    /// Whether this record is one part of a transaction shipped in several records.
    public var isPartOfSeveral: Bool { kind == .transactionPart || (kind == .transaction && part > 0) }

    public static func heartbeat(
        generation: Generation,
        lastTxid: TxID,
        now: Int64,
        pageSize: UInt32,
        databasePages: UInt32
    ) -> Record {
        Record(
            kind: .heartbeat,
            generation: generation,
            txid: lastTxid,
            commitTime: now,
            pageSize: pageSize,
            databasePages: databasePages,
            pages: []
        )
    }
}

/// A record in wire/log form. Only the codec and the decoders create these, so holders can
/// rely on `bytes` being one complete, checksummed record matching `txid` and `checksum`.
public struct EncodedRecord: Sendable, Equatable {
    public let bytes: [UInt8]
    public let kind: Record.Kind
    public let txid: TxID
    public let part: UInt16
    public let checksum: UInt32
    public let previousChecksum: UInt32
    /// Uncompressed payload size, for compression-ratio metrics.
    public let rawPayloadBytes: Int

    init(bytes: [UInt8], header: RecordHeader) {
        self.bytes = bytes
        self.kind = header.kind
        self.txid = header.txid
        self.part = header.part
        self.checksum = header.checksum
        self.previousChecksum = header.previousChecksum
        self.rawPayloadBytes = Int(header.payloadLength)
    }

    /// Adopts bytes received from elsewhere (e.g. a stream) after checking that they are exactly
    /// one structurally valid record whose checksum matches; the payload is not inflated.
    public init(verifying bytes: [UInt8]) throws {
        let header = try RecordCodec.peekHeader(bytes[...])
        guard bytes.count >= header.recordLength else { throw RecordError.truncated }
        guard bytes.count == header.recordLength else {
            throw RecordError.malformedHeader("\(bytes.count - header.recordLength) trailing bytes after the record")
        }
        try RecordCodec.verifyChecksum(bytes[...], header: header)
        self.init(bytes: bytes, header: header)
    }
}
