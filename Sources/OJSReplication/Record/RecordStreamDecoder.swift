/// A record pulled off a stream: the decoded form for applying, and the verified wire bytes
/// for keeping (e.g. in a replica's own log) without re-encoding.
public struct StreamedRecord: Sendable, Equatable {
    public let record: Record
    public let encoded: EncodedRecord
}

/// Incremental decoder for a byte stream of records (an HTTP body arriving in arbitrary
/// chunks). Beyond per-record verification it enforces continuity from the replica's position:
/// each transaction must be `lastTxid + 1` and chain from `lastChecksum`; a heartbeat must
/// report exactly `lastTxid` and chain from `lastChecksum`. After the first error the decoder
/// stays failed, because nothing after a broken point of a stream can be trusted — reconnect.
public struct RecordStreamDecoder: Sendable {
    /// The generation records must carry; adopted from the first record when nil.
    public private(set) var generation: Generation?
    /// Position after the last transaction returned (the replica's position initially).
    public private(set) var lastTxid: TxID
    public private(set) var lastChecksum: UInt32
    /// Latest primary clock seen in any record, heartbeats included, for lag reporting.
    public private(set) var lastPrimaryTime: Int64?

    /// The parts of a transaction shipped in several records, while they arrive.
    public private(set) var parts = PartSequence()
    /// Highest page number in the current transaction's parts so far: pages ascend across
    /// parts, so no page appears twice in one transaction.
    private var lastPageInTransaction: UInt32 = 0

    private var buffer: [UInt8] = []
    /// Start of unconsumed bytes in `buffer`; compacting lazily keeps tiny feeds cheap.
    private var readIndex = 0
    private var failure: RecordError?

    /// - Parameters:
    ///   - lastTxid/lastChecksum: the position the replica holds (0/0 for an empty database).
    public init(generation: Generation?, lastTxid: TxID = 0, lastChecksum: UInt32 = 0) {
        self.generation = generation
        self.lastTxid = lastTxid
        self.lastChecksum = lastChecksum
    }

    /// Bytes received but not yet returned as records.
    public var bufferedBytes: Int { buffer.count - readIndex }

    public mutating func feed(_ chunk: some Sequence<UInt8>) {
        if readIndex > 0, readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: chunk)
    }

    /// The next complete record, or nil until more bytes arrive.
    public mutating func next() throws -> StreamedRecord? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch let error as RecordError {
            failure = error
            throw error
        }
    }

    /// Everything currently decodable.
    public mutating func drain() throws -> [StreamedRecord] {
        var out: [StreamedRecord] = []
        while let item = try next() { out.append(item) }
        return out
    }

    /// Call at end of stream: leftover bytes mean the stream was cut inside a record.
    public func finish() throws {
        if let failure { throw failure }
        if bufferedBytes > 0 { throw RecordError.truncated }
        if let open = parts.open { throw RecordError.incompleteTransaction(txid: open.txid, partsReceived: Int(open.nextPart)) }
    }

    private mutating func decodeNext() throws -> StreamedRecord? {
        let available = buffer[readIndex...]
        guard available.count >= RecordCodec.headerSize else { return nil }
        // Check the header before waiting for the payload so a bad stream fails as soon as
        // its header arrives instead of after buffering up to 64 MiB of garbage.
        let header = try RecordCodec.peekHeader(available)
        if let generation {
            guard header.generation == generation else {
                throw RecordError.generationMismatch(expected: generation, got: header.generation)
            }
        }
        // Wrapping add: a hostile stream reaching UInt64.max must get an error, not a trap.
        let expectedTxid = header.kind.carriesPages ? lastTxid &+ 1 : lastTxid
        guard header.txid == expectedTxid else {
            throw RecordError.unexpectedTxid(expected: expectedTxid, got: header.txid)
        }
        if header.kind.carriesPages {
            let expectedPart = parts.open?.nextPart ?? 0
            guard header.part == expectedPart else {
                throw RecordError.unexpectedPart(txid: header.txid, expected: expectedPart, got: header.part)
            }
        } else if let open = parts.open {
            throw RecordError.incompleteTransaction(txid: open.txid, partsReceived: Int(open.nextPart))
        }
        guard available.count >= header.recordLength else { return nil }

        let decoded = try RecordCodec.decode(available, expectedPrevious: parts.open?.chain ?? lastChecksum)
        if header.kind.carriesPages {
            let floor = parts.isOpen ? lastPageInTransaction : 0
            if let first = decoded.record.pages.first, first.number <= floor {
                throw RecordError.partMismatch(
                    txid: header.txid,
                    part: header.part,
                    "page \(first.number) does not follow page \(floor) of the part before"
                )
            }
            var sequence = parts
            let completes = try sequence.accept(header, lastTxid: lastTxid, lastChecksum: lastChecksum)
            parts = sequence
            lastPageInTransaction = completes ? 0 : (decoded.record.pages.last?.number ?? floor)
        }
        let bytes = Array(available.prefix(decoded.length))
        readIndex += decoded.length
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        generation = header.generation
        lastPrimaryTime = max(lastPrimaryTime ?? .min, header.commitTime)
        if header.kind == .transaction {
            // The last (or only) part: the transaction is complete.
            lastTxid = header.txid
            lastChecksum = header.checksum
        }
        return StreamedRecord(record: decoded.record, encoded: EncodedRecord(bytes: bytes, header: header))
    }
}
