/// Encodes one transaction as one record, or as several when its pages exceed one record's
/// page budget, reading the page images one part at a time: memory holds one part's pages
/// and its compressed form, never the whole transaction.
public struct TransactionEncoder: Sendable {
    /// Page bytes per record before a transaction is split: 16 MiB compresses to at most
    /// 16 MiB + 0.1 % (zlib's bound), well inside the 64 MiB a decoder accepts, and bounds what
    /// either side holds in memory for one record. `OJS_REPLICATION_RECORD_KB` lowers it (tests
    /// cross it with a few MiB).
    public static let defaultPartPageBytes = 16 << 20

    public let partPageBytes: Int
    public let level: Int32

    public init(partPageBytes: Int = TransactionEncoder.defaultPartPageBytes, level: Int32 = 1) {
        self.partPageBytes = max(1, partPageBytes)
        self.level = level
    }

    /// Pages per record for `pageSize`: at least one.
    public func pagesPerPart(pageSize: UInt32) -> Int {
        max(1, partPageBytes / (4 + Int(pageSize)))
    }

    /// Encodes transaction `txid` whose pages are `pageNumbers` (strictly ascending), reading
    /// each image with `image` when its part is built, and hands each record to `emit` in
    /// order. The first record chains from `previousChecksum`; returns the checksum of the
    /// last, the chain value after this transaction.
    @discardableResult
    public func encode(
        generation: Generation,
        txid: TxID,
        commitTime: Int64,
        pageSize: UInt32,
        databasePages: UInt32,
        pageNumbers: [UInt32],
        previousChecksum: UInt32,
        image: (UInt32) throws -> [UInt8],
        emit: (EncodedRecord) throws -> Void
    ) throws -> UInt32 {
        for i in pageNumbers.indices.dropFirst() where pageNumbers[i] <= pageNumbers[i - 1] {
            throw RecordError.invalidRecord("pages not strictly ascending at \(pageNumbers[i])")
        }
        let perPart = pagesPerPart(pageSize: pageSize)
        let partCount = max(1, (pageNumbers.count + perPart - 1) / perPart)
        guard partCount <= Int(UInt16.max) + 1 else {
            throw RecordError.tooLarge(bytes: pageNumbers.count * (4 + Int(pageSize)))
        }
        var chain = previousChecksum
        for part in 0..<partCount {
            let numbers = pageNumbers[min(pageNumbers.count, part * perPart)..<min(pageNumbers.count, (part + 1) * perPart)]
            var record = Record(
                kind: part == partCount - 1 ? .transaction : .transactionPart,
                generation: generation,
                txid: txid,
                commitTime: commitTime,
                pageSize: pageSize,
                databasePages: databasePages,
                pages: try numbers.map { Page(number: $0, data: try image($0)) }
            )
            record.part = UInt16(part)
            let encoded = try RecordCodec.encode(record, previousChecksum: chain, level: level)
            chain = encoded.checksum
            try emit(encoded)
        }
        return chain
    }
}
