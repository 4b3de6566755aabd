import CSQLite
import Foundation
import XCTest

@testable import OJSReplication

struct TestSQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    let sql: String
    var description: String { "SQLite \(code): \(message) [\(sql.prefix(100))]" }
}

/// A minimal C-API connection for tests: the primary needs pragmas OJSStore doesn't expose
/// (small cache_size to force spills, auto_vacuum to make the file shrink), and the replica
/// readers must be plain read-only connections.
final class TestDB {
    let handle: OpaquePointer
    let path: String

    init(path: String, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            if let db { sqlite3_close_v2(db) }
            throw TestSQLiteError(code: rc, message: "open failed", sql: path)
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
    }

    /// A primary configured like the server's writer: WAL, synchronous=FULL, no automatic
    /// checkpoints. `auto_vacuum=FULL` makes deletes shrink the file, exercising truncation.
    static func primary(path: String) throws -> TestDB {
        let db = try TestDB(path: path)
        try db.exec("PRAGMA auto_vacuum=FULL")
        try db.exec("PRAGMA journal_mode=WAL")
        try db.exec("PRAGMA synchronous=FULL")
        try db.exec("PRAGMA wal_autocheckpoint=0")
        return db
    }

    deinit { sqlite3_close_v2(handle) }

    func exec(_ sql: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        guard rc == SQLITE_OK else {
            let message = errmsg.map { String(cString: $0) } ?? "error"
            sqlite3_free(errmsg)
            throw TestSQLiteError(code: rc, message: message, sql: sql)
        }
    }

    /// Every row of `sql`, each column rendered as text; blobs as length + 64-bit hash so
    /// multi-megabyte payloads compare cheaply.
    func rows(_ sql: String) throws -> [[String]] {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw TestSQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
        defer { sqlite3_finalize(stmt) }
        var result: [[String]] = []
        while true {
            let step = sqlite3_step(stmt)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else {
                throw TestSQLiteError(code: step, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
            }
            var row: [String] = []
            for i in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, i) {
                case SQLITE_NULL: row.append("NULL")
                case SQLITE_INTEGER: row.append(String(sqlite3_column_int64(stmt, i)))
                case SQLITE_FLOAT: row.append(String(sqlite3_column_double(stmt, i)))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, i))
                    let bytes = UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, i), count: n)
                    row.append("blob:\(n):\(String(hash(bytes), radix: 16))")
                default: row.append(sqlite3_column_text(stmt, i).map { String(cString: $0) } ?? "")
                }
            }
            result.append(row)
        }
        return result
    }

    func int(_ sql: String) throws -> Int64 {
        guard let value = try rows(sql).first?.first, let int = Int64(value) else {
            throw TestSQLiteError(code: SQLITE_ERROR, message: "no integer result", sql: sql)
        }
        return int
    }

    /// The schema and every table's rows in rowid order, as one read transaction.
    func dump() throws -> [String] {
        try exec("BEGIN")
        defer { try? exec("COMMIT") }
        var out = try rows("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name").map {
            $0.joined(separator: "|")
        }
        let tables = try rows(
            "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        for table in tables.compactMap(\.first) {
            out.append("table \(table)")
            out += try rows("SELECT rowid, * FROM \"\(table)\" ORDER BY rowid").map { $0.joined(separator: "|") }
        }
        return out
    }

    /// The database exactly as this connection sees it (WAL included), page for page.
    func serialize() throws -> [UInt8] {
        var size: sqlite3_int64 = 0
        guard let data = sqlite3_serialize(handle, "main", &size, 0) else {
            throw TestSQLiteError(code: SQLITE_NOMEM, message: "serialize failed", sql: "")
        }
        defer { sqlite3_free(data) }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(size)))
    }

    /// A page-exact copy through the online backup API into a fresh file.
    func backup(to path: String) throws {
        let dest = try TestDB(path: path)
        guard let backup = sqlite3_backup_init(dest.handle, "main", handle, "main") else {
            throw TestSQLiteError(code: sqlite3_errcode(dest.handle), message: "backup_init", sql: path)
        }
        let step = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finish == SQLITE_OK else {
            throw TestSQLiteError(code: step, message: "backup_step/finish \(finish)", sql: path)
        }
    }
}

/// FNV-1a over 64-bit words (plus the tail bytes): only needs to tell test blobs apart.
func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var i = 0
    while i + 8 <= bytes.count {
        h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01b3
        i += 8
    }
    while i < bytes.count {
        h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3
        i += 1
    }
    return h
}

/// Deterministic RNG so a failing random workload can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? -1
}

/// Builds a WAL file by hand, with SQLite's checksum, for cases SQLite 3.40 never writes on
/// its own (the same page twice before one commit) and for the big-endian magic.
struct SyntheticWAL {
    let pageSize: UInt32
    let bigEndian: Bool
    var salt1: UInt32 = 0x1234_5678
    var salt2: UInt32 = 0x9abc_def0
    private(set) var bytes: [UInt8] = []
    private var checksum = WALChecksum.zero

    init(pageSize: UInt32 = 512, bigEndian: Bool) {
        self.pageSize = pageSize
        self.bigEndian = bigEndian
        var header: [UInt8] = []
        for word in [
            bigEndian ? WALFormat.magicBigEndian : WALFormat.magicLittleEndian,
            WALFormat.version, pageSize, 0, salt1, salt2,
        ] {
            header += be(word)
        }
        header.withUnsafeBytes { checksum.update($0, bigEndian: bigEndian) }
        bytes = header + be(checksum.s0) + be(checksum.s1)
    }

    mutating func append(page: UInt32, fill: UInt8, commitSize: UInt32 = 0, salt1 override: UInt32? = nil) {
        let data = [UInt8](repeating: fill, count: Int(pageSize))
        let head = be(page) + be(commitSize)
        head.withUnsafeBytes { checksum.update($0, bigEndian: bigEndian) }
        data.withUnsafeBytes { checksum.update($0, bigEndian: bigEndian) }
        bytes += head + be(override ?? salt1) + be(salt2) + be(checksum.s0) + be(checksum.s1) + data
    }

    private func be(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }
}
