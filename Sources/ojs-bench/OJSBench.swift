import ArgumentParser
import Foundation

/// The load generator: drives ojs-edge over HTTP and beanstalkd over its own protocol with
/// N concurrent connections and prints one JSON object with rates and latency percentiles.
@main
struct OJSBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ojs-bench",
        abstract: "Load generator for ojs-edge and beanstalkd (JSON on stdout).",
        subcommands: [HTTPCommand.self, BeanstalkCommand.self]
    )
}

struct LoadOptions: ParsableArguments {
    @Option(help: "Server port on 127.0.0.1.") var port: Int
    @Option(help: "Concurrent connections, one thread each.") var connections = 32
    @Option(help: "Measured seconds.") var duration = 10.0
    @Option(help: "Seconds run before measuring.") var warmup = 2.0
    @Option(help: "Operations per second across all connections (open loop); closed loop when absent.") var rate: Double?
    @Option(help: "Stop after this many jobs in total (fills a database; no warm-up).") var totalJobs: Int?
    @Option(help: "Bytes of filler in each job's args.") var payloadBytes = 64

    var runnerOptions: Runner.Options {
        Runner.Options(
            warmup: totalJobs == nil ? warmup : 0,
            duration: totalJobs == nil ? duration : 86_400,
            rate: rate,
            jobsPerConnection: totalJobs.map { ($0 + connections - 1) / connections }
        )
    }
}

func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

struct HTTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Drive ojs-edge: get:PATH, push, batch:N, cycle:N, status."
    )
    @OptionGroup var load: LoadOptions
    @Option(help: "get:PATH | push | batch:N | cycle:N | status") var scenario: String
    @Option(help: "Port the status scenario pushes its jobs to (the primary, when reading a replica).") var setupPort: Int?

    func run() throws {
        guard let s = Scenario(scenario) else { throw ValidationError("unknown scenario \(scenario)") }
        let workers = (0..<load.connections).map {
            HTTPWorker(scenario: s, index: $0, port: load.port, setupPort: setupPort, payloadBytes: load.payloadBytes)
        }
        var result = try Runner.run(workers, load.runnerOptions)
        result["target"] = "ojs-edge"
        result["scenario"] = s.description
        try printJSON(result)
    }
}

struct BeanstalkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beanstalk",
        abstract: "Drive beanstalkd: put, or put → reserve → delete (cycle)."
    )
    @OptionGroup var load: LoadOptions
    @Option(help: "put | cycle") var mode = "cycle"

    func run() throws {
        guard let m = BeanstalkWorker.Mode(rawValue: mode) else { throw ValidationError("unknown mode \(mode)") }
        let workers = (0..<load.connections).map {
            BeanstalkWorker(mode: m, index: $0, port: load.port, payloadBytes: load.payloadBytes)
        }
        var result = try Runner.run(workers, load.runnerOptions)
        result["target"] = "beanstalkd"
        result["scenario"] = "beanstalk:\(m.rawValue)"
        try printJSON(result)
    }
}
