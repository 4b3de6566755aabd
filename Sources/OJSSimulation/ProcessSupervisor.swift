import Foundation

/// Starts the simulated nodes as child processes of this one and makes sure none outlives
/// it: every child is remembered until it is reaped, `teardown()` stops them all, and SIGINT
/// or SIGTERM run the teardown before exiting.
public final class ProcessSupervisor: @unchecked Sendable {
    public struct Node: Sendable {
        public let name: String
        public let port: Int
        public let arguments: [String]
        /// Another program than `ojs-edge` (the simulated etcd); nil runs the supervisor's executable.
        public var executable: URL? = nil
    }

    private let executable: URL
    private let logDirectory: URL
    private let lock = NSLock()
    private var running: [String: Process] = [:]
    private var nodes: [String: Node] = [:]
    private var signalSources: [any DispatchSourceSignal] = []
    private var tornDown = false

    public init(executable: URL, logDirectory: URL) {
        self.executable = executable
        self.logDirectory = logDirectory
    }

    /// On SIGINT/SIGTERM: stop every child, then exit with the conventional status.
    public func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                FileHandle.standardError.write(Data("\nojs-edge simulate: interrupted, stopping every node\n".utf8))
                teardown()
                exit(128 + sig)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Starts (or restarts) a node. Its stderr goes to `<logs>/<name>.log`, appended across restarts.
    public func start(_ node: Node) throws(SupervisorError) {
        let p = Process()
        p.executableURL = node.executable ?? executable
        p.arguments = node.arguments
        p.standardOutput = FileHandle.nullDevice
        p.environment = Self.environment(ProcessInfo.processInfo.environment)
        let path = logDirectory.appendingPathComponent("\(node.name).log").path
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        if let log = FileHandle(forWritingAtPath: path) {
            log.seekToEndOfFile()
            p.standardError = log
        }
        lock.lock()
        defer { lock.unlock() }
        // Checked under the lock, so a teardown that already ran cannot miss this child.
        guard !tornDown else { throw .tornDown }
        do { try p.run() } catch { throw .spawnFailed(node.name, String(describing: error)) }
        running[node.name] = p
        nodes[node.name] = node
    }

    /// The nodes' environment: the user's `OJS_*` settings (a key, a port, a data directory)
    /// would change what is simulated, so they are dropped; `OJS_EXIT_WITH_PARENT` (this process's pid)
    /// makes a node exit if this process is killed before it can stop them.
    static func environment(_ inherited: [String: String]) -> [String: String] {
        inherited.filter { !$0.key.hasPrefix("OJS_") }.merging(["OJS_EXIT_WITH_PARENT": String(getpid())]) { $1 }
    }

    public func restart(_ name: String) throws(SupervisorError) {
        guard let node = lock.withLock({ nodes[name] }) else { throw .unknown(name) }
        try start(node)
    }

    /// `kill -9` and reap, as a crash would.
    public func kill9(_ name: String) {
        guard let p = lock.withLock({ running.removeValue(forKey: name) }) else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    public func isRunning(_ name: String) -> Bool {
        lock.withLock { running[name]?.isRunning ?? false }
    }

    /// Stops every child: SIGTERM for a clean shutdown, SIGKILL for any still there after a
    /// grace period. Safe to call more than once and from a signal handler's queue.
    public func teardown(grace: TimeInterval = 5) {
        let children = lock.withLock { () -> [Process] in
            tornDown = true
            defer { running.removeAll() }
            return Array(running.values)
        }
        for p in children where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while children.contains(where: \.isRunning), Date() < deadline { usleep(20_000) }
        for p in children where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in children { p.waitUntilExit() }
    }

    deinit { teardown(grace: 0) }
}

public enum SupervisorError: Error, CustomStringConvertible {
    case spawnFailed(String, String)
    case unknown(String)
    case tornDown
    case notHealthy(String)

    public var description: String {
        switch self {
        case .spawnFailed(let n, let e): "could not start \(n): \(e)"
        case .unknown(let n): "no node named \(n)"
        case .tornDown: "the simulation is shutting down"
        case .notHealthy(let n): "\(n) did not answer in time (see its log)"
        }
    }
}
