import Foundation

@testable import OJSReplication

/// Shared builders for the codec and log tests, namespaced so they cannot collide with other
/// test files in this module.
enum RecordFixtures {
    /// Deterministic generator so a failing fuzz case reproduces.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomBytes(_ count: Int, using rng: inout SplitMix64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = rng.next()
            for _ in 0..<8 where index < count {
                out[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return out
    }

    /// Roughly what an SQLite table leaf looks like: a small header, a cell pointer array,
    /// free space of zeros, and rows of repetitive JSON-ish text packed at the end.
    static func typicalPage(size: Int, seed: Int) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: size)
        page[0] = 0x0D
        let row = Array("{\"id\":\"job-\(seed)\",\"queue\":\"default\",\"state\":\"available\",\"attempt\":0}".utf8)
        var end = size
        var cell = 0
        while end - row.count > size / 3 {
            end -= row.count
            page.replaceSubrange(end..<(end + row.count), with: row)
            page[8 + cell * 2] = UInt8(truncatingIfNeeded: end >> 8)
            page[9 + cell * 2] = UInt8(truncatingIfNeeded: end)
            cell += 1
        }
        return page
    }

    /// Distinct ascending page numbers.
    static func pageNumbers(_ count: Int, using rng: inout SplitMix64) -> [UInt32] {
        var numbers = Set<UInt32>()
        while numbers.count < count { numbers.insert(UInt32.random(in: 1...100_000, using: &rng)) }
        return numbers.sorted()
    }

    static func transaction(
        generation: Generation,
        txid: UInt64,
        commitTime: Int64 = 1_700_000_000_000,
        pageSize: UInt32 = 512,
        pages: Int = 2,
        seed: UInt64 = 0
    ) -> Record {
        var rng = SplitMix64(seed: seed &+ txid)
        let numbers = pageNumbers(pages, using: &rng)
        return Record.transaction(
            generation: generation,
            txid: txid,
            commitTime: commitTime,
            pageSize: pageSize,
            databasePages: (numbers.last ?? 1) + 1,
            pages: numbers.map { Page(number: $0, data: randomBytes(Int(pageSize), using: &rng)) }
        )
    }

    /// Encoded transactions `first...first+count-1`, chained from `previous`.
    static func chain(
        generation: Generation,
        count: Int,
        first: UInt64 = 1,
        previous: UInt32 = 0,
        pages: Int = 2,
        commitTime: (UInt64) -> Int64 = { _ in 1_700_000_000_000 }
    ) throws -> [EncodedRecord] {
        var out: [EncodedRecord] = []
        var checksum = previous
        for offset in 0..<count {
            let txid = first + UInt64(offset)
            let record = transaction(generation: generation, txid: txid, commitTime: commitTime(txid), pages: pages)
            let encoded = try RecordCodec.encode(record, previousChecksum: checksum)
            checksum = encoded.checksum
            out.append(encoded)
        }
        return out
    }

    /// Independent bitwise CRC-32 (reflected 0xEDB88320, zlib's continuation convention), so
    /// the tests check the documented checksum rather than the codec's own zlib call.
    static func crc32(_ seed: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = ~seed
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func be<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, _: T.Type) -> T {
        bytes[offset..<(offset + MemoryLayout<T>.size)].reduce(T(0)) { $0 << 8 | T($1) }
    }

    static func storeBE<T: FixedWidthInteger>(_ value: T, _ bytes: inout [UInt8], _ offset: Int) {
        for i in 0..<MemoryLayout<T>.size {
            bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * (MemoryLayout<T>.size - 1 - i)))
        }
    }

    /// Rewrites the stored checksum so a deliberately modified record passes the checksum
    /// check and reaches the deeper validation behind it.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        let previous: UInt32 = be(bytes, 60, UInt32.self)
        let crc = crc32(crc32(previous, bytes[0..<64]), bytes[68...])
        out[64] = UInt8(truncatingIfNeeded: crc >> 24)
        out[65] = UInt8(truncatingIfNeeded: crc >> 16)
        out[66] = UInt8(truncatingIfNeeded: crc >> 8)
        out[67] = UInt8(truncatingIfNeeded: crc)
        return out
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("ojs-repl-log-\(UUID().uuidString)", isDirectory: true)
    }
}
