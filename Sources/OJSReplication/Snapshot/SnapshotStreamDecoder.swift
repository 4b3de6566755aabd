/// Splits a snapshot body (as it arrives, in pieces of any size) into its header, verified
/// chunks and trailer. It holds at most one chunk plus the piece being fed, never the image.
public struct SnapshotStreamDecoder {
    public enum Part: Equatable {
        case header(SnapshotHeader)
        /// A verified chunk's uncompressed bytes.
        case chunk(index: UInt64, bytes: [UInt8])
        case trailer(SnapshotTrailer)
    }

    private var buffer: [UInt8] = []
    private var start = 0
    public private(set) var header: SnapshotHeader?
    /// The next chunk expected (valid once the header was read).
    public private(set) var nextChunk: UInt64 = 0
    public private(set) var trailer: SnapshotTrailer?

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete part, or nil until more bytes arrive.
    public mutating func next() throws(SnapshotError) -> Part? {
        let available = buffer.count - start
        guard let header else {
            guard available >= SnapshotFormat.headerSize else { return nil }
            let decoded = try inspect(start..<(start + SnapshotFormat.headerSize)) { raw throws(SnapshotError) in try SnapshotHeader.decode(raw) }
            start += SnapshotFormat.headerSize
            self.header = decoded
            nextChunk = decoded.firstChunk
            return .header(decoded)
        }
        if trailer != nil {
            if available > 0 { throw .malformed("\(available) bytes after the trailer") }
            return nil
        }
        if nextChunk == header.chunkCount {
            guard available >= SnapshotFormat.trailerSize else { return nil }
            let decoded = try inspect(start..<(start + SnapshotFormat.trailerSize)) { raw throws(SnapshotError) in try SnapshotTrailer.decode(raw) }
            guard decoded.id == header.id, decoded.txid == header.txid, decoded.imageLength == header.imageLength else {
                throw .malformed("trailer describes another image")
            }
            start += SnapshotFormat.trailerSize
            trailer = decoded
            return .trailer(decoded)
        }
        guard available >= SnapshotFormat.chunkHeaderSize else { return nil }
        let index = nextChunk
        let expectedLength = header.length(ofChunk: index)
        let fields = try inspect(start..<(start + SnapshotFormat.chunkHeaderSize)) { h throws(SnapshotError) -> (compressed: Int, crc: UInt32) in
            guard Array(h[0..<4]) == SnapshotFormat.chunkMagic else { throw .corruptChunk(index: index, reason: "bad chunk magic") }
            guard h.loadBE(UInt32.self, at: 24) == Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: h[0..<24])) else {
                throw .corruptChunk(index: index, reason: "chunk header checksum mismatch")
            }
            guard h.loadBE(UInt64.self, at: 4) == index else {
                throw .corruptChunk(index: index, reason: "chunk \(h.loadBE(UInt64.self, at: 4)) arrived, \(index) expected")
            }
            guard Int(h.loadBE(UInt32.self, at: 12)) == expectedLength else {
                throw .corruptChunk(index: index, reason: "length \(h.loadBE(UInt32.self, at: 12)), expected \(expectedLength)")
            }
            let compressed = Int(h.loadBE(UInt32.self, at: 16))
            // zlib's worst case for incompressible data is the input plus 0.1 % and a few bytes.
            guard compressed <= expectedLength + expectedLength / 500 + 64 else {
                throw .corruptChunk(index: index, reason: "compressed length \(compressed) for \(expectedLength) bytes")
            }
            return (compressed, h.loadBE(UInt32.self, at: 20))
        }
        guard available >= SnapshotFormat.chunkHeaderSize + fields.compressed else { return nil }
        let payloadStart = start + SnapshotFormat.chunkHeaderSize
        let bytes = try inspect(payloadStart..<(payloadStart + fields.compressed)) { payload throws(SnapshotError) -> [UInt8] in
            guard let inflated = try? Zlib.uncompress(payload, expectedLength: expectedLength) else {
                throw .corruptChunk(index: index, reason: "payload does not inflate to \(expectedLength) bytes")
            }
            guard inflated.withUnsafeBytes({ Zlib.crc32(0, $0) }) == fields.crc else {
                throw .corruptChunk(index: index, reason: "checksum mismatch")
            }
            return inflated
        }
        start = payloadStart + fields.compressed
        nextChunk += 1
        return .chunk(index: index, bytes: bytes)
    }

    /// Runs `body` over `range` of the buffer, keeping the error's type.
    private func inspect<T>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws(SnapshotError) -> T) throws(SnapshotError) -> T {
        let result: Result<T, SnapshotError> = buffer.withUnsafeBytes { raw in
            do throws(SnapshotError) {
                return .success(try body(UnsafeRawBufferPointer(rebasing: raw[range])))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Call when the body ended: throws unless the trailer was read.
    public func finish() throws(SnapshotError) {
        guard trailer == nil else { return }
        throw .truncated(nextChunk: nextChunk)
    }
}
