import ArgumentParser
import Foundation
import OJSSimulation

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a whole edge topology on this machine (a primary and one replica per region behind latency-adding proxies), "
            + "break it on schedule, and report what each region's clients experienced."
    )

    @Option(
        help: "Topology JSON file, or the name of one in replica/topologies/ (default: replica/topologies/default.json, else the built-in default)."
    )
    var topology: String?

    @Option(help: "Seconds of workload (default: the topology's duration_s, else 60).")
    var duration: Double?

    @Option(help: "Write the JSON report here.")
    var report: String?

    @Option(help: "Write an SVG chart of lag over time per region here.")
    var chart: String?

    @Option(help: "Seed for jitter, drops and workload choices.")
    var seed: UInt64 = 1

    @Option(
        name: .customLong("time-scale"),
        help: "Multiply every fault's time and length by this factor (e.g. 0.2 to play a 60 s timeline in 12 s)."
    )
    var timeScale: Double = 1

    @Option(name: .customLong("work-dir"), help: "Directory for the nodes' data and logs (default: a new temporary directory).")
    var workDir: String?

    @Flag(name: .customLong("keep-data"), help: "Keep the nodes' data and logs after the run.")
    var keepData = false

    func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive.") }
        guard timeScale > 0 else { throw ValidationError("--time-scale must be positive.") }
    }

    func run() async throws {
        let loaded: Topology
        do {
            loaded = try Self.loadTopology(topology).scaled(by: timeScale)
        } catch {
            throw ValidationError(String(describing: error))
        }
        if loaded.isFailover, SimulatedEtcd.binary() == nil {
            FileHandle.standardError.write(Data("ojs-edge simulate: \(SimulationError.etcdMissing)\n".utf8))
            throw ExitCode(Self.etcdMissingStatus)
        }
        let work =
            workDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "ojs-edge-sim-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
            )
        let options = Simulation.Options(
            topology: loaded,
            durationS: duration ?? loaded.durationS ?? 60,
            seed: seed,
            executable: Self.ownExecutable(),
            workDirectory: work,
            keepData: keepData
        )
        let simulation = Simulation(options: options) { line in FileHandle.standardError.write(Data(("simulate: " + line + "\n").utf8)) }
        simulation.supervisor.installSignalHandlers()
        let result = try await simulation.run()
        print(result.table())
        if let report {
            try result.json().write(to: URL(fileURLWithPath: report))
        }
        if let chart {
            try Data(LagChart.render(result).utf8).write(to: URL(fileURLWithPath: chart))
        }
        if keepData { FileHandle.standardError.write(Data("simulate: data and logs kept in \(work.path)\n".utf8)) }
        if !result.holds { throw ExitCode(1) }
    }

    /// EX_UNAVAILABLE (sysexits.h): a required service is not there; distinct from 1, a broken invariant.
    static let etcdMissingStatus: Int32 = 69

    /// A path, a name under replica/topologies/, or (nothing given) the default file when run
    /// from the repository, else the built-in default.
    static func loadTopology(_ argument: String?) throws -> Topology {
        let candidates: [String] =
            if let argument { [argument, "replica/topologies/\(argument).json"] } else { ["replica/topologies/default.json"] }
        for path in candidates where FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else { throw TopologyError.notFound(path) }
            return try Topology.decode(data)
        }
        if argument == nil || argument == "default" { return try Topology.decode(Data(Topology.defaultJSON.utf8)) }
        throw TopologyError.notFound(argument ?? "")
    }

    /// This very binary, so the nodes run the same build as the simulator.
    static func ownExecutable() -> URL {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: link) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }
}
