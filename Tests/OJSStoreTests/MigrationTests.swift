import Foundation
import XCTest

@testable import OJSStore

/// The schema must run unchanged on Cloudflare D1, which applies plain `.sql` files with
/// SQLite's own tools: apply them with the stock `sqlite3` CLI and open the result.
final class MigrationTests: XCTestCase {
    func testMigrationsApplyWithSQLiteCLIAndTheStoreOpensTheResult() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-mig-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try Migrations.export(to: dir.appendingPathComponent("migrations"))
        XCTAssertEqual(files.map(\.lastPathComponent), Migrations.all.map(\.name))
        let db = dir.appendingPathComponent("ojs.db").path
        for file in files {
            let sql = try String(contentsOf: file, encoding: .utf8)
            XCTAssertFalse(sql.uppercased().contains("PRAGMA"), "no PRAGMA inside migrations")
            // What wrangler does: run the file, then record it in d1_migrations.
            try sqlite3(db, sql + "\n" + Migrations.ledger + "\nINSERT INTO d1_migrations (name) VALUES ('\(file.lastPathComponent)');")
        }
        let store = try Store(configuration: StoreConfiguration(path: db))
        store.close()
        let recorded = try sqlite3(db, "SELECT name FROM d1_migrations ORDER BY id;")
        XCTAssertEqual(recorded.split(separator: "\n").map(String.init), Migrations.all.map(\.name), "nothing applied twice")
    }

    @discardableResult
    func sqlite3(_ path: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-bail", path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(sql.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, text)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
