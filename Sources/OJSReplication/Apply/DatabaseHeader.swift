/// The few fields of SQLite's 100-byte database header (start of page 1) that the replica
/// has to rewrite. See https://www.sqlite.org/fileformat2.html#the_database_header.
enum DatabaseHeader {
    static let size = 100
    /// File format write/read version: 1 = rollback journal, 2 = WAL. A replica must say 1,
    /// or the first connection to open it would switch it to WAL mode.
    static let writeVersionOffset = 18
    static let readVersionOffset = 19
    static let rollbackJournalVersion: UInt8 = 1
    /// File change counter: how rollback-mode connections decide whether their page cache is
    /// still valid. A WAL-mode primary never changes it, so the replica must.
    static let changeCounterOffset = 24
    /// In-header database size in pages; trusted only when `versionValidForOffset` equals the
    /// change counter.
    static let databaseSizeOffset = 28
    /// Schema cookie: connections reload the schema when it moves.
    static let schemaCookieOffset = 40
    static let versionValidForOffset = 92
    static let magic: [UInt8] = Array("SQLite format 3".utf8) + [0]

    static func readBE32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    static func writeBE32(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    /// Page size from header bytes 16-17 (big-endian; the value 1 means 65536), or nil when
    /// it isn't a power of two in 512...65536.
    static func pageSize(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= size else { return nil }
        let raw = UInt32(bytes[16]) << 8 | UInt32(bytes[17])
        let pageSize = raw == 1 ? 65536 : raw
        return WALFormat.isValidPageSize(pageSize) ? pageSize : nil
    }

    /// Rewrites the header at the start of `bytes` (page 1, or just its first 100 bytes) the
    /// way every replica apply must: rollback-journal versions, the new change counter, and the
    /// database size, with version-valid-for equal to the counter so the size is trusted.
    static func patch(_ bytes: inout [UInt8], changeCounter: UInt32, databasePages: UInt32) {
        precondition(bytes.count >= size, "database header is 100 bytes")
        bytes[writeVersionOffset] = rollbackJournalVersion
        bytes[readVersionOffset] = rollbackJournalVersion
        writeBE32(changeCounter, into: &bytes, at: changeCounterOffset)
        writeBE32(databasePages, into: &bytes, at: databaseSizeOffset)
        writeBE32(changeCounter, into: &bytes, at: versionValidForOffset)
    }
}
