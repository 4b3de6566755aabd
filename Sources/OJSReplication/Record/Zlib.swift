import CZlib

/// Thin, bounds-safe wrappers over the few zlib calls the codec needs.
enum Zlib {
    /// Continues a zlib CRC-32. zlib treats a NULL buffer as "return the initial value" and
    /// would discard the seed, so empty input must short-circuit here.
    static func crc32(_ seed: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        var crc = UInt(seed)
        var offset = 0
        // crc32 takes a 32-bit length; feed huge buffers in pieces.
        while offset < bytes.count {
            let chunk = Swift.min(bytes.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, base.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(chunk))
            offset += chunk
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws -> [UInt8] {
        let bound = Int(compressBound(uLong(input.count)))
        var status: Int32 = Z_OK
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            var destLength = uLong(bound)
            status = compress2(
                buffer.baseAddress,
                &destLength,
                input.baseAddress?.assumingMemoryBound(to: Bytef.self),
                uLong(input.count),
                level
            )
            initialized = status == Z_OK ? Int(destLength) : 0
        }
        guard status == Z_OK else { throw RecordError.compressionFailed(status) }
        return output
    }

    /// Inflates a complete zlib stream that must produce exactly `expectedLength` bytes and
    /// consume all of `input`; anything else means the payload is not what the header promised.
    static func uncompress(_ input: UnsafeRawBufferPointer, expectedLength: Int) throws -> [UInt8] {
        var status: Int32 = Z_OK
        var produced = 0
        var consumed = uLong(input.count)
        let output = [UInt8](unsafeUninitializedCapacity: expectedLength) { buffer, initialized in
            var destLength = uLong(expectedLength)
            status = uncompress2(
                buffer.baseAddress,
                &destLength,
                input.baseAddress?.assumingMemoryBound(to: Bytef.self),
                &consumed
            )
            produced = Int(destLength)
            // Only bytes zlib wrote are initialized; on failure expose none of them.
            initialized = status == Z_OK ? produced : 0
        }
        guard status == Z_OK else {
            throw RecordError.corruptPayload("inflate failed (zlib \(status))")
        }
        guard produced == expectedLength else {
            throw RecordError.corruptPayload("inflated to \(produced) bytes, header says \(expectedLength)")
        }
        guard consumed == uLong(input.count) else {
            throw RecordError.corruptPayload("\(uLong(input.count) - consumed) bytes after the compressed stream")
        }
        return output
    }
}
