import CSQLite
import Crypto
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

/// The database moved on while a digest was being taken, every time it was tried.
public struct DigestUnsettled: Error, Sendable, CustomStringConvertible {
    public var attempts: Int
    public var description: String { "the database changed during each of \(attempts) digest attempts; retry when writes pause" }
}

extension Store {
    /// Rows hashed per read transaction. On a replica a read transaction holds the lock that
    /// keeps the applier out, so one chunk must stay short: 2,000 rows of at most a few KiB
    /// each is a few milliseconds of scanning, not the seconds a multi-GiB table takes.
    static let digestChunkRows = 2000
    /// Restarts allowed when a commit lands between chunks before giving up.
    static let digestAttempts = 3

    /// Streams every row into an incremental SHA-256, a chunk per read transaction, so memory
    /// stays flat whatever the database's size and no reader or applier waits for the whole
    /// scan. Every chunk checks that the position has not moved; if it has, the digest starts
    /// over (a digest mixing two positions would be meaningless), up to `digestAttempts` times.
    public func digest() async throws -> ContentDigest {
        for _ in 0..<Self.digestAttempts {
            if let digest = try await digestAtOnePosition() { return digest }
        }
        throw DigestUnsettled(attempts: Self.digestAttempts)
    }

    /// nil when a commit moved the position during the scan.
    private func digestAtOnePosition() async throws -> ContentDigest? {
        let (txid, tables) = try await read { db -> (Int64, [String]) in
            var tables: [String] = []
            try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
                tables.append($0.text(0))
            }
            return (try db.scalar("SELECT txid FROM replication_position WHERE id = 1"), tables)
        }
        var hasher = SHA256()
        var rows = 0
        for table in tables {
            hasher.update(data: Array("table \(table)\n".utf8))
            var after = Int64.min
            while true {
                let chunk = try await read { [hasher, after] db -> (SHA256, Int, Int64)? in
                    guard try db.scalar("SELECT txid FROM replication_position WHERE id = 1") == txid else { return nil }
                    var h = hasher
                    var count = 0
                    var last = after
                    var row = [UInt8]()
                    try db.query(
                        "SELECT rowid, * FROM \"\(table)\" WHERE rowid > ? ORDER BY rowid LIMIT ?",
                        [.int(after), .int(Int64(Self.digestChunkRows))]
                    ) { r in
                        count += 1
                        last = r.int(0)
                        row.removeAll(keepingCapacity: true)
                        for i in 1..<r.columnCount {
                            switch r.type(i) {
                            case SQLITE_NULL: row.append(0)
                            case SQLITE_INTEGER: row += [1] + Array(String(r.int(i)).utf8)
                            case SQLITE_FLOAT: row += [2] + Array(String(r.double(i)).utf8)
                            case SQLITE_TEXT: row += [3] + Array(r.text(i).utf8)
                            default: row += [4] + r.blob(i)
                            }
                            row.append(0x1F)
                        }
                        row.append(0x1E)
                        h.update(data: row)
                    }
                    return (h, count, last)
                }
                guard let (h, count, last) = chunk else { return nil }
                hasher = h
                rows += count
                after = last
                if count < Self.digestChunkRows { break }
            }
        }
        return ContentDigest(txid: txid, sha256: Digests.hex(hasher.finalize()), tables: tables.count, rows: rows)
    }
}

extension Row {
    public var columnCount: Int32 { sqlite3_column_count(handle) }
    public func type(_ i: Int32) -> Int32 { sqlite3_column_type(handle, i) }
}
