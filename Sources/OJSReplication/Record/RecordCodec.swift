/// Encodes and decodes replication records (format v1, see docs/replication-protocol.md).
public enum RecordCodec {
    public static let headerSize = 68
    /// Upper bound on one record's compressed payload. It bounds what a reader must buffer for a
    /// single record; a transaction whose pages do not fit cannot be shipped as one record.
    public static let maxCompressedLength: UInt32 = 64 << 20
    public static let minPageSize: UInt32 = 512
    public static let maxPageSize: UInt32 = 65536

    public static func isValidPageSize(_ size: UInt32) -> Bool {
        size >= minPageSize && size <= maxPageSize && size & (size - 1) == 0
    }

    /// Encodes `record`, chaining its checksum from `previousChecksum` (the checksum of the
    /// preceding transaction record; 0 before txid 1). `level` is a zlib level, -1...9; the
    /// default 1 because records are produced on the commit path where speed beats ratio.
    public static func encode(_ record: Record, previousChecksum: UInt32, level: Int32 = 1) throws -> EncodedRecord {
        guard (-1...9).contains(level) else { throw RecordError.invalidRecord("zlib level \(level) not in -1...9") }
        guard record.generation.bytes.count == Generation.byteCount else {
            throw RecordError.invalidRecord("generation is not 16 bytes")
        }
        guard record.pages.count <= Int(UInt32.max) else {
            throw RecordError.invalidRecord("too many pages")
        }
        let pageSize = Int(record.pageSize)
        let payloadLength = record.pages.count * (4 + pageSize)
        guard payloadLength <= Int(UInt32.max) else {
            throw RecordError.invalidRecord("payload of \(payloadLength) bytes does not fit the format")
        }
        if record.kind == .heartbeat, !record.pages.isEmpty {
            throw RecordError.invalidRecord("heartbeat carries pages")
        }

        var compressed: [UInt8] = []
        if record.kind.carriesPages {
            var payload: [UInt8] = []
            payload.reserveCapacity(payloadLength)
            var previousNumber: UInt32 = 0
            for page in record.pages {
                // Decoders reject anything else, so refuse to produce it.
                guard page.number > previousNumber else {
                    throw RecordError.invalidRecord(
                        page.number == 0 ? "page number 0" : "pages not strictly ascending at \(page.number)"
                    )
                }
                guard page.data.count == pageSize else {
                    throw RecordError.invalidRecord("page \(page.number) has \(page.data.count) bytes, page size is \(pageSize)")
                }
                previousNumber = page.number
                payload.appendBE(page.number)
                payload.append(contentsOf: page.data)
            }
            compressed = try payload.withUnsafeBytes { try Zlib.compress($0, level: level) }
            guard compressed.count <= Int(maxCompressedLength) else {
                throw RecordError.tooLarge(bytes: compressed.count)
            }
        }

        var header = RecordHeader(
            kind: record.kind,
            generation: record.generation,
            txid: record.txid,
            commitTime: record.commitTime,
            pageSize: record.pageSize,
            databasePages: record.databasePages,
            pageCount: UInt32(record.pages.count),
            payloadLength: UInt32(payloadLength),
            compressedLength: UInt32(compressed.count),
            previousChecksum: previousChecksum,
            checksum: 0
        )
        header.part = record.part
        do {
            try header.validate()
        } catch let RecordError.malformedHeader(why) {
            throw RecordError.invalidRecord(why)
        }

        var bytes = [UInt8](repeating: 0, count: headerSize + compressed.count)
        bytes.withUnsafeMutableBytes { raw in
            header.serialize(into: raw)
            let prefix = UnsafeRawBufferPointer(rebasing: raw[0..<RecordHeader.checksummedPrefix])
            var crc = Zlib.crc32(previousChecksum, prefix)
            compressed.withUnsafeBytes { payload in
                crc = Zlib.crc32(crc, payload)
                if payload.count > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: raw[headerSize...]).copyMemory(from: payload)
                }
            }
            header.checksum = crc
            raw.storeBE(crc, at: 64)
        }
        return EncodedRecord(bytes: bytes, header: header)
    }

    /// Reads one record from the start of `bytes`; returns it and how many bytes it used.
    /// Verifies structure, the checksum, and — when `expectedPrevious` is given — that the
    /// record chains from that checksum. Throws `RecordError`, never traps, on any input.
    public static func decode(_ bytes: ArraySlice<UInt8>, expectedPrevious: UInt32?) throws -> (record: Record, checksum: UInt32, length: Int) {
        let header = try peekHeader(bytes)
        guard bytes.count >= header.recordLength else { throw RecordError.truncated }
        let recordBytes = bytes.prefix(header.recordLength)
        try verifyChecksum(recordBytes, header: header)
        if let expectedPrevious, header.previousChecksum != expectedPrevious {
            throw RecordError.chainBroken(txid: header.txid, expectedPrevious: expectedPrevious, found: header.previousChecksum)
        }
        let pages = try header.kind.carriesPages ? decodePages(recordBytes.dropFirst(headerSize), header: header) : []
        var record = Record(
            kind: header.kind,
            generation: header.generation,
            txid: header.txid,
            commitTime: header.commitTime,
            pageSize: header.pageSize,
            databasePages: header.databasePages,
            pages: pages
        )
        record.part = header.part
        return (record, header.checksum, header.recordLength)
    }

    /// Header-only peek (structure validated, checksum not) for scanning a log without inflating.
    public static func peekHeader(_ bytes: ArraySlice<UInt8>) throws -> RecordHeader {
        guard bytes.count >= headerSize else { throw RecordError.truncated }
        return try bytes.withUnsafeBytes { try RecordHeader.parse($0) }
    }

    /// Checks the stored checksum against header prefix + compressed payload, seeded with the
    /// header's own previous checksum. `bytes` must hold at least the whole record.
    static func verifyChecksum(_ bytes: ArraySlice<UInt8>, header: RecordHeader) throws {
        guard bytes.count >= header.recordLength else { throw RecordError.truncated }
        let computed = bytes.withUnsafeBytes { raw in
            let prefix = UnsafeRawBufferPointer(rebasing: raw[0..<RecordHeader.checksummedPrefix])
            let payload = UnsafeRawBufferPointer(rebasing: raw[headerSize..<header.recordLength])
            return Zlib.crc32(Zlib.crc32(header.previousChecksum, prefix), payload)
        }
        guard computed == header.checksum else { throw RecordError.checksumMismatch(txid: header.txid) }
    }

    private static func decodePages(_ compressed: ArraySlice<UInt8>, header: RecordHeader) throws -> [Page] {
        let payload = try compressed.withUnsafeBytes {
            try Zlib.uncompress($0, expectedLength: Int(header.payloadLength))
        }
        let pageSize = Int(header.pageSize)
        let stride = 4 + pageSize
        var pages: [Page] = []
        pages.reserveCapacity(Int(header.pageCount))
        var previousNumber: UInt32 = 0
        try payload.withUnsafeBytes { raw in
            var offset = 0
            // The header check guarantees payloadLength == pageCount * stride, and inflate
            // produced exactly payloadLength bytes, so every slice below is in bounds.
            while offset < raw.count {
                let number = raw.loadBE(UInt32.self, at: offset)
                guard number > previousNumber else {
                    throw RecordError.corruptPayload(
                        number == 0 ? "page number 0" : "page \(number) out of order after \(previousNumber)"
                    )
                }
                previousNumber = number
                let image = Array(UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + stride)]))
                pages.append(Page(number: number, data: image))
                offset += stride
            }
        }
        return pages
    }
}
