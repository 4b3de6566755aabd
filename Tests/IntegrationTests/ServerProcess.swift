import Foundation
import OJSSimulation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `ojs-edge` process on a free loopback port, for tests that must kill it.
final class ServerProcess {
    let port: Int
    let dataDir: URL
    let arguments: [String]
    private(set) var process: Process?

    static var binary: URL {
        // `swift test` builds every product next to the test bundle.
        var dir = Bundle.main.bundleURL
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        for candidate in [dir, Bundle(for: ServerProcess.self).bundleURL.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("ojs-edge")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return dir.appendingPathComponent("ojs-edge")
    }

    /// Read at each `start()`: a test may change it between a stop and a restart.
    var environment: [String: String]

    /// `serve` (the primary) by default; `["replica", "--primary", URL, "--region", R]` for a replica.
    init(dataDir: URL, command: [String] = ["serve"], extraArguments: [String] = [], environment: [String: String] = [:]) throws {
        self.port = try Self.freePort()
        self.dataDir = dataDir
        self.environment = environment
        // A failover node must say where others reach it: its own port, known only now.
        let advertise = command.first == "node" ? ["--advertise", "http://127.0.0.1:\(port)"] : []
        self.arguments =
            command + ["--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir.path, "--log-level", "error"]
            + advertise + extraArguments
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    var pid: Int32? { process?.processIdentifier }

    private lazy var errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-process-\(UUID().uuidString).log").path

    func start() async throws {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = FileHandle.nullDevice
        // Errors only (the log level is "error"), kept so a failed start can say why.
        FileManager.default.createFile(atPath: errorLog, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: errorLog) ?? FileHandle.nullDevice
        // OJS_TEST_LOG_DIR keeps each process's JSON log, for debugging a failing test.
        if let logDir = ProcessInfo.processInfo.environment["OJS_TEST_LOG_DIR"] {
            let path = logDir + "/\(arguments[0])-\(port).log"
            FileManager.default.createFile(atPath: path, contents: nil)
            p.standardError = FileHandle(forWritingAtPath: path)
            p.arguments = arguments.map { $0 == "error" ? "info" : $0 }
        }
        try p.run()
        process = p
        try await waitUntilHealthy()
    }

    /// Polls health until the server answers (a condition, not a fixed sleep).
    func waitUntilHealthy(timeout: TimeInterval = 30) async throws {
        try await eventually("the server on port \(port) is healthy", within: timeout) {
            // A raw connection closed after each poll, so start-up leaves no pooled connection
            // holding one of the server's connection slots.
            if let probe = try? RawConnection(port: port) {
                try? probe.sendRequest("GET", "/ojs/v1/health")
                if probe.readResponse(timeout: 5)?.status == 200 { return true }
            }
            guard process?.isRunning == true else {
                let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
                throw TestFailure("server exited during start-up: \(log.suffix(2000))")
            }
            return false
        }
    }

    func kill9() {
        guard let p = process else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGTERM (graceful shutdown); SIGKILL if the process is still there after `grace`.
    func terminate(grace: TimeInterval = 10) {
        guard let p = process else { return }
        p.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            Foundation.kill(p.processIdentifier, SIGKILL)
            lingered = true
        }
        p.waitUntilExit()
        exitStatus = p.terminationStatus
        process = nil
    }

    /// Whether a graceful shutdown had to be finished with SIGKILL.
    private(set) var lingered = false
    /// The exit status of the last `terminate()`.
    private(set) var exitStatus: Int32?

    deinit {
        kill9()
        try? FileManager.default.removeItem(atPath: errorLog)
    }

    static func freePort() throws -> Int { try PortAllocator.free() }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Minimal HTTP over URLSession, returning status and parsed JSON.
enum HTTP {
    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 10
        c.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: c)
    }()

    static func request(_ method: String, _ url: String, json: String? = nil) async throws -> (Int, Any?) {
        let r = try await exchange(method, url, json: json)
        return (r.status, r.body)
    }

    struct Exchange {
        var status: Int
        var body: Any?
        var headers: [String: String]
        var json: [String: Any] { body as? [String: Any] ?? [:] }
    }

    /// A request with optional extra headers; response header names are lowercased.
    static func exchange(_ method: String, _ url: String, json: String? = nil, headers: [String: String] = [:]) async throws -> Exchange {
        guard let target = URL(string: url) else { throw TestFailure("bad URL \(url)") }
        var req = URLRequest(url: target)
        req.httpMethod = method
        if let json {
            req.httpBody = Data(json.utf8)
            req.setValue("application/openjobspec+json", forHTTPHeaderField: "Content-Type")
        }
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: req)
        let http = response as? HTTPURLResponse
        var out: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] { out[String(describing: k).lowercased()] = String(describing: v) }
        return Exchange(status: http?.statusCode ?? 0, body: try? JSONSerialization.jsonObject(with: data), headers: out)
    }
}

/// Runs a command to completion and returns its exit status with standard output or error.
enum Command {
    enum Capture { case standardOutput, standardError }

    /// A command still running after `timeout` seconds is killed and reported as status -1.
    static func run(
        _ executable: URL,
        _ arguments: [String],
        capture: Capture = .standardOutput,
        timeout: TimeInterval = 120,
        environment: [String: String] = [:]
    ) throws -> (status: Int32, text: String) {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        p.standardOutput = capture == .standardOutput ? pipe : FileHandle.nullDevice
        p.standardError = capture == .standardError ? pipe : FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        let timedOut = p.isRunning
        if timedOut { Foundation.kill(p.processIdentifier, SIGKILL) }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (timedOut ? -1 : p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
