import Foundation
import XCTest

/// A full disk, a database quota and a read-only data directory: clear errors, degraded
/// health while writes cannot land, recovery once they can, and no acknowledged job lost
/// or database corrupted, across a `kill -9` taken in the middle of the trouble.
final class DiskTroubleTests: XCTestCase {
    var acknowledged: [String] = []

    func temporaryDirectory() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-disk-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Pushes 2 KiB jobs until one is refused; returns the refusal.
    func pushUntilRefused(_ server: ServerProcess, limit: Int = 5000) async throws -> HTTP.Exchange {
        let padding = String(repeating: "x", count: 2048)
        for i in 0..<limit {
            let r = try await HTTP.exchange("POST", server.baseURL + "/ojs/v1/jobs", json: #"{"type":"fill","args":[\#(i),"\#(padding)"]}"#)
            guard r.status == 201 else { return r }
            acknowledged.append(try XCTUnwrap((r.json["job"] as? [String: Any])?["id"] as? String))
        }
        throw TestFailure("\(limit) pushes of 2 KiB never filled the storage")
    }

    func health(_ server: ServerProcess) async throws -> (status: Int, backend: [String: Any]) {
        let r = try await HTTP.exchange("GET", server.baseURL + "/ojs/v1/health")
        return (r.status, r.json["backend"] as? [String: Any] ?? [:])
    }

    func push(_ server: ServerProcess) async throws -> Int {
        let r = try await HTTP.exchange("POST", server.baseURL + "/ojs/v1/jobs", json: #"{"type":"after","args":[]}"#)
        if r.status == 201, let id = (r.json["job"] as? [String: Any])?["id"] as? String { acknowledged.append(id) }
        return r.status
    }

    func assertIntact(_ dataDir: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let check = try Command.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"),
            [dataDir.appendingPathComponent("ojs.db").path, "PRAGMA integrity_check"]
        )
        XCTAssertEqual(check.text.trimmingCharacters(in: .whitespacesAndNewlines), "ok", "integrity_check", file: file, line: line)
    }

    func assertEveryAcknowledgedJobPresent(_ server: ServerProcess, file: StaticString = #filePath, line: UInt = #line) async throws {
        XCTAssertFalse(acknowledged.isEmpty, file: file, line: line)
        for id in acknowledged {
            let r = try await HTTP.exchange("GET", server.baseURL + "/ojs/v1/jobs/\(id)")
            XCTAssertEqual(r.status, 200, "acknowledged job \(id) lost", file: file, line: line)
        }
    }

    /// Runs without privileges: SQLite's page quota fails writes exactly as a full disk does.
    func testDatabaseQuotaGivesStorageFullThenRecoversAfterRestartWithMoreRoom() async throws {
        let dir = temporaryDirectory()
        let server = try ServerProcess(dataDir: dir, extraArguments: ["--max-db-bytes", "1000000"])
        try await server.start()
        let refusal = try await pushUntilRefused(server)
        XCTAssertEqual(refusal.status, 507)
        let error = refusal.json["error"] as? [String: Any]
        XCTAssertEqual(error?["code"] as? String, "storage_full")
        XCTAssertEqual(error?["retryable"] as? Bool, true)
        var h = try await health(server)
        XCTAssertEqual(h.status, 503)
        XCTAssertEqual(h.backend["status"] as? String, "degraded")
        // Reads go on while writes cannot.
        try await assertEveryAcknowledgedJobPresent(server)

        server.kill9()
        try assertIntact(dir)
        let roomier = try ServerProcess(dataDir: dir, extraArguments: ["--max-db-bytes", "8000000"])
        try await roomier.start()
        defer { roomier.kill9() }
        let afterRestart = try await push(roomier)
        XCTAssertEqual(afterRestart, 201)
        h = try await health(roomier)
        XCTAssertEqual(h.status, 200)
        try await assertEveryAcknowledgedJobPresent(roomier)
    }

    /// A real small filesystem (tmpfs) filled up, freed, crashed, then remounted read-only.
    /// Needs root to mount; skipped elsewhere.
    func testFullFilesystemThenReadOnlyDataDirectory() async throws {
        let mountPoint = temporaryDirectory()
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mounted = try Command.run(
            URL(fileURLWithPath: "/bin/mount"),
            ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint.path],
            capture: .standardError
        )
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (\(mounted.text)); the quota test covers SQLITE_FULL") }
        addTeardownBlock { _ = try? Command.run(URL(fileURLWithPath: "/bin/umount"), ["-l", mountPoint.path]) }
        let dataDir = mountPoint.appendingPathComponent("data")

        let server = try ServerProcess(dataDir: dataDir)
        try await server.start()
        defer { server.kill9() }
        // Leave about 1.5 MiB free, so the database fills after a few hundred pushes.
        let filler = mountPoint.appendingPathComponent("filler")
        var fs = statvfs()
        XCTAssertEqual(statvfs(mountPoint.path, &fs), 0)
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        FileManager.default.createFile(atPath: filler.path, contents: Data(count: max(0, free - 1_500_000)))

        let refusal = try await pushUntilRefused(server)
        XCTAssertEqual(refusal.status, 507, "\(refusal.json)")
        XCTAssertEqual((refusal.json["error"] as? [String: Any])?["code"] as? String, "storage_full")
        var h = try await health(server)
        XCTAssertEqual(h.status, 503)
        XCTAssertEqual(h.backend["status"] as? String, "degraded")

        // The operator frees space: writes land again and health recovers.
        try FileManager.default.removeItem(at: filler)
        let afterFreeing = try await push(server)
        XCTAssertEqual(afterFreeing, 201)
        h = try await health(server)
        XCTAssertEqual(h.status, 200)

        // A crash after all this loses nothing and corrupts nothing.
        server.kill9()
        try assertIntact(dataDir)
        let restarted = try ServerProcess(dataDir: dataDir)
        try await restarted.start()
        try await assertEveryAcknowledgedJobPresent(restarted)
        restarted.terminate()

        // The same data directory, now read-only: the server refuses to start, and says why.
        // (Linux refuses a read-only remount while files are open for writing, so this is the
        // read-only case a running server meets; the storage-level one is in WriterFaultTests.)
        let ro = try Command.run(URL(fileURLWithPath: "/bin/mount"), ["-o", "remount,ro", mountPoint.path], capture: .standardError)
        XCTAssertEqual(ro.status, 0, ro.text)
        let refused = try Command.run(
            ServerProcess.binary,
            ["serve", "--port", String(try ServerProcess.freePort()), "--data-dir", dataDir.path],
            capture: .standardError,
            timeout: 30
        )
        XCTAssertEqual(refused.status, 73, refused.text)
        XCTAssertTrue(refused.text.contains("data-dir"), refused.text)
        _ = try Command.run(URL(fileURLWithPath: "/bin/mount"), ["-o", "remount,rw", mountPoint.path], capture: .standardError)
        let again = try ServerProcess(dataDir: dataDir)
        try await again.start()
        defer { again.kill9() }
        try await assertEveryAcknowledgedJobPresent(again)
    }
}
