import ArgumentParser
import Foundation
import OJSReplication

/// `ojs-edge promote`: turns a stopped replica's data directory into a primary's, which
/// `ojs-edge serve --data-dir` then serves, continuing the old primary's replication history
/// so the other replicas follow it without a snapshot (`CopyPromotion`).
struct Promote: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a stopped replica's data directory a primary's (then run `ojs-edge serve --data-dir` on it)."
    )

    /// EX_CANTCREAT: a file could not be read, written or renamed.
    static let ioExitCode: Int32 = 73
    /// EX_CONFIG: the directory holds no copy that can be promoted as it is.
    static let refusedExitCode: Int32 = 78

    @Option(name: .customLong("data-dir"), help: "The replica's data directory (env OJS_DATA_DIR).")
    var dataDir: String = Env.string("OJS_DATA_DIR") ?? ""

    @Option(name: .customLong("database-name"), help: "The copy's file name in the data directory.")
    var databaseName: String = ReplicaApplier.defaultDatabaseName

    func validate() throws {
        guard !dataDir.isEmpty else { throw ValidationError("--data-dir is required.") }
        guard !databaseName.isEmpty, !databaseName.contains("/") else { throw ValidationError("--database-name must be a file name.") }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory), isDirectory.boolValue else {
            fail("\(dataDir) is not a directory", code: Self.refusedExitCode)
        }
        do {
            let result = try CopyPromotion.promote(dataDirectory: URL(fileURLWithPath: dataDir), databaseName: databaseName)
            print(
                "promoted \(dataDir): generation \(result.generation.text), txid \(result.txid); "
                    + "database \(result.databasePath) is in WAL mode; serve it with `ojs-edge serve --data-dir \(dataDir)`"
            )
        } catch {
            switch error {
            case .io: fail("cannot promote \(dataDir): \(error)", code: Self.ioExitCode)
            case .noCopy, .inUse, .disagree, .targetExists:
                fail("refusing to promote \(dataDir): \(error)", code: Self.refusedExitCode)
            }
        }
    }

    private func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data(("ojs-edge: " + message + "\n").utf8))
        Promote.exit(withError: ExitCode(code))
    }
}
