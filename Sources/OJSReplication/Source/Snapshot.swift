import CSQLite
import Foundation

/// A consistent image of the primary's database with the position it reflects: what a new
/// replica starts from. Wire format (v1, big-endian), documented in
/// `docs/replication-protocol.md`:
///
///     0  4  magic "OJSS"          24  8  txid              44  8  image length
///     4  1  version = 1           32  4  chain checksum    52  4  image crc32
///     5  3  reserved              36  4  page size         56  8  compressed length
///     8 16  generation            40  4  page count        64  4  header crc32 (bytes 0..<64)
///    68  …  zlib stream of the image
public struct Snapshot: Sendable, Equatable {
    public static let magic: [UInt8] = Array("OJSS".utf8)
    public static let headerSize = 68

    public var generation: Generation
    public var txid: UInt64
    /// The record chain's checksum after `txid`: the next record's `previous checksum`.
    public var checksum: UInt32
    public var pageSize: UInt32
    public var image: [UInt8]

    public var pageCount: UInt32 { pageSize == 0 ? 0 : UInt32(image.count / Int(pageSize)) }

    public func encode(level: Int32 = 1) throws -> [UInt8] {
        let compressed = try image.withUnsafeBytes { try Zlib.compress($0, level: level) }
        var header = [UInt8](repeating: 0, count: Self.headerSize)
        let imageCRC = image.withUnsafeBytes { Zlib.crc32(0, $0) }
        header.withUnsafeMutableBytes { h in
            for (i, b) in Self.magic.enumerated() { h[i] = b }
            h[4] = 1
            for (i, b) in generation.bytes.enumerated() { h[8 + i] = b }
            h.storeBE(txid, at: 24)
            h.storeBE(checksum, at: 32)
            h.storeBE(pageSize, at: 36)
            h.storeBE(pageCount, at: 40)
            h.storeBE(UInt64(image.count), at: 44)
            h.storeBE(imageCRC, at: 52)
            h.storeBE(UInt64(compressed.count), at: 56)
        }
        let headerCRC = header.withUnsafeBytes { Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: $0[0..<64])) }
        header.withUnsafeMutableBytes { $0.storeBE(headerCRC, at: 64) }
        return header + compressed
    }

    public static func decode(_ bytes: [UInt8]) throws -> Snapshot {
        guard bytes.count >= headerSize else { throw SnapshotError.truncated }
        return try bytes.withUnsafeBytes { raw -> Snapshot in
            guard Array(raw[0..<4]) == magic, raw[4] == 1 else { throw SnapshotError.malformed("bad magic or version") }
            guard raw.loadBE(UInt32.self, at: 64) == Zlib.crc32(0, UnsafeRawBufferPointer(rebasing: raw[0..<64])) else {
                throw SnapshotError.malformed("header checksum mismatch")
            }
            guard let generation = Generation(bytes: raw[8..<24]) else { throw SnapshotError.malformed("bad generation") }
            let pageSize = raw.loadBE(UInt32.self, at: 36)
            let imageLength = raw.loadBE(UInt64.self, at: 44)
            let compressedLength = raw.loadBE(UInt64.self, at: 56)
            guard RecordCodec.isValidPageSize(pageSize), imageLength % UInt64(pageSize) == 0, imageLength <= 1 << 40,
                UInt64(bytes.count - headerSize) == compressedLength
            else { throw SnapshotError.malformed("inconsistent lengths") }
            let image: [UInt8]
            do {
                image = try Zlib.uncompress(UnsafeRawBufferPointer(rebasing: raw[headerSize...]), expectedLength: Int(imageLength))
            } catch {
                throw SnapshotError.malformed("image does not inflate: \(error)")
            }
            guard image.withUnsafeBytes({ Zlib.crc32(0, $0) }) == raw.loadBE(UInt32.self, at: 52) else {
                throw SnapshotError.malformed("image checksum mismatch")
            }
            return Snapshot(
                generation: generation, txid: raw.loadBE(UInt64.self, at: 24), checksum: raw.loadBE(UInt32.self, at: 32), pageSize: pageSize,
                image: image)
        }
    }
}

public enum SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    case truncated
    case malformed(String)
    case sqlite(String)

    public var description: String {
        switch self {
        case .truncated: return "snapshot is truncated"
        case .malformed(let why): return "snapshot is malformed: \(why)"
        case .sqlite(let why): return "snapshot failed: \(why)"
        }
    }
}

extension ReplicationSource {
    /// A snapshot of the current state, with the chain checksum at its position.
    public func snapshot() async throws -> Snapshot {
        let copy = try await Blocking.run { try self.copyDatabase() }
        // The log may trail the database by the commit being captured this instant.
        guard await logged.wait(atLeast: Int64(copy.txid), timeout: .seconds(5)) else {
            throw SnapshotError.sqlite("replication log did not reach txid \(copy.txid)")
        }
        let checksum = try log.checksum(at: copy.txid)
        countSnapshot()
        return Snapshot(generation: log.generation, txid: copy.txid, checksum: checksum, pageSize: copy.pageSize, image: copy.image)
    }

    /// Serialises the database inside one read transaction, together with the position row
    /// of that same state. `sqlite3_serialize` returns the exact pages, page 1 included (the
    /// backup API would reset the schema cookie, and replicas' warm connections would then
    /// miss a schema change). Blocking.
    func copyDatabase() throws -> (txid: UInt64, pageSize: UInt32, image: [UInt8]) {
        var db: OpaquePointer?
        defer { sqlite3_close_v2(db) }
        guard sqlite3_open_v2(databasePath, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw SnapshotError.sqlite("cannot open \(databasePath)")
        }
        sqlite3_busy_timeout(db, 5000)
        guard sqlite3_exec(db, "BEGIN", nil, nil, nil) == SQLITE_OK else { throw SnapshotError.sqlite(String(cString: sqlite3_errmsg(db))) }
        defer { sqlite3_exec(db, "COMMIT", nil, nil, nil) }
        var txid: Int64 = 0
        var pageSize: Int64 = 4096
        try query(db, "SELECT txid FROM replication_position WHERE id = 1") { txid = $0 }
        try query(db, "PRAGMA page_size") { pageSize = $0 }
        var size: sqlite3_int64 = 0
        guard let bytes = sqlite3_serialize(db, "main", &size, 0) else {
            throw SnapshotError.sqlite("sqlite3_serialize failed: \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_free(bytes) }
        let image = Array(UnsafeBufferPointer(start: bytes, count: Int(size)))
        return (UInt64(txid), UInt32(pageSize), image)
    }

    private func query(_ db: OpaquePointer?, _ sql: String, _ row: (Int64) -> Void) throws {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { throw SnapshotError.sqlite(String(cString: sqlite3_errmsg(db))) }
        defer { sqlite3_finalize(stmt) }
        if sqlite3_step(stmt) == SQLITE_ROW { row(sqlite3_column_int64(stmt, 0)) }
    }
}

/// Runs blocking work (SQLite, file I/O) on a Dispatch thread instead of Swift's cooperative
/// pool, which has only as many threads as cores.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
