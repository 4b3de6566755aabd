import CSQLite
import OJSCore

/// A fingerprint of the whole database's logical content at one position: every table, every
/// row in rowid order, every value with its type. Two copies with the same digest at the same
/// txid hold the same data, whatever their page layout or journal mode.
public struct ContentDigest: Sendable, Equatable {
    public var txid: Int64
    public var sha256: String
    public var tables: Int
    public var rows: Int
}

extension Store {
    public func digest() async throws -> ContentDigest {
        try await read { db in
            let txid = try db.scalar("SELECT txid FROM replication_position WHERE id = 1")
            var tables: [String] = []
            try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") { tables.append($0.text(0)) }
            var hasher = [UInt8]()
            var rows = 0
            for table in tables {
                hasher += Array("table \(table)\n".utf8)
                try db.query("SELECT * FROM \"\(table)\" ORDER BY rowid") { row in
                    rows += 1
                    for i in 0..<row.columnCount {
                        switch row.type(i) {
                        case SQLITE_NULL: hasher += [0]
                        case SQLITE_INTEGER: hasher += [1] + Array(String(row.int(i)).utf8)
                        case SQLITE_FLOAT: hasher += [2] + Array(String(row.double(i)).utf8)
                        case SQLITE_TEXT: hasher += [3] + Array(row.text(i).utf8)
                        default: hasher += [4] + row.blob(i)
                        }
                        hasher.append(0x1F)
                    }
                    hasher.append(0x1E)
                }
            }
            return ContentDigest(txid: txid, sha256: SHA256.hexString(SHA256.hash(hasher)), tables: tables.count, rows: rows)
        }
    }
}

extension Row {
    public var columnCount: Int32 { sqlite3_column_count(handle) }
    public func type(_ i: Int32) -> Int32 { sqlite3_column_type(handle, i) }
}
