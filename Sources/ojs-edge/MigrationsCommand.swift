import ArgumentParser
import Foundation
import OJSStore

struct MigrationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrations",
        abstract: "Work with the D1-compatible schema migrations.",
        subcommands: [Export.self]
    )

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the migrations as NNNN_description.sql files (for `wrangler d1 migrations apply`)."
        )

        @Argument(help: "Directory to write into (created if missing).")
        var directory: String

        func run() throws {
            for url in try Migrations.export(to: URL(fileURLWithPath: directory)) { print(url.path) }
        }
    }
}
