import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import OJSReplication
import OJSServer
import OJSStore

struct Replica: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a regional read replica: bootstrap from the primary's snapshot, tail its WAL-shipping stream, serve reads, forward writes."
    )

    @Option(help: "The primary's base URL, e.g. http://10.0.0.1:8080 (env OJS_PRIMARY_URL).")
    var primary: String = Env.string("OJS_PRIMARY_URL") ?? ""

    @Option(help: "This replica's region name, shown in OJS-Served-By and status (env OJS_REGION).")
    var region: String = Env.string("OJS_REGION") ?? "local"

    @Option(help: "Address to listen on (env OJS_HOST).")
    var host: String = Env.string("OJS_HOST") ?? Defaults.server.host

    @Option(help: "Port to listen on (env OJS_PORT).")
    var port: Int = Env.int("OJS_PORT") ?? ServerConfiguration.defaultReplicaPort

    @Option(name: .customLong("data-dir"), help: "Directory for the replica's copy (env OJS_DATA_DIR; default ./data/replica-<region>).")
    var dataDir: String = Env.string("OJS_DATA_DIR") ?? ""

    @Option(
        name: .customLong("database-name"),
        help: "The copy's file name in the data directory; a failover node uses ojs.db in both roles (env OJS_DATABASE_NAME)."
    )
    var databaseName: String = Env.string("OJS_DATABASE_NAME") ?? ReplicaApplier.defaultDatabaseName

    @OptionGroup(title: "Reads and forwarding")
    var reads: ReplicaReadOptions

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env OJS_LOG_LEVEL).")
    var logLevel: String = Env.string("OJS_LOG_LEVEL") ?? LogSetup.defaultLevel

    func validate() throws {
        guard primary.hasPrefix("http://") || primary.hasPrefix("https://") else { throw ValidationError("--primary must be an http(s) URL.") }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535.") }
        guard ReplicaRegistry.isValidRegion(region) else {
            throw ValidationError("--region must be 1-\(ReplicaRegistry.maxRegionLength) ASCII letters, digits, '-', '_' or '.'.")
        }
        guard !databaseName.isEmpty, !databaseName.contains("/") else { throw ValidationError("--database-name must be a file name.") }
        try LogSetup.validate(logLevel)
    }

    func run() async throws {
        let logger = LogSetup.bootstrap(level: logLevel, label: "ojs-edge.replica.\(region)")
        ParentWatchdog.startIfRequested()
        var config = ServerConfiguration()
        config.host = host
        config.port = port
        reads.apply(to: &config)
        limits.apply(to: &config)
        config.apiKeys = ServerConfiguration.parseKeys(Env.string("OJS_API_KEY"))
        config.replicationKeys = ServerConfiguration.parseKeys(Env.string("OJS_REPLICATION_KEY"))
        if let refusal = config.startupRefusal(allowInsecureNoAuth: Env.bool("OJS_ALLOW_INSECURE_NO_AUTH")) {
            logger.critical("refusing to start", metadata: ["reason": .string(refusal)])
            FileHandle.standardError.write(Data(("ojs-edge: " + refusal + "\n").utf8))
            throw ExitCode(78)
        }
        let directory = URL(fileURLWithPath: dataDir.isEmpty ? "./data/replica-\(region)" : dataDir)
        // The replication stream's client; forwarded requests have their own (`forwardClient`).
        let client = HTTPClient.shared
        let tailerConfig = TailerOptions.configuration(primaryURL: primary, region: region, replicationKey: config.replicationKeys.first)
        let applier = try ReplicaApplier(dataDirectory: directory, databaseName: databaseName, relayLog: ReplicationLogOptions.relayLimits())
        let tailer = ReplicaTailer(configuration: tailerConfig, applier: applier, client: client, logger: logger, clock: Store.systemClock)
        logger.info("replica starting", metadata: ["primary": .string(primary), "region": .string(region), "data_dir": .string(directory.path)])
        try await tailer.prepare()
        let storeConfig = StoreConfiguration(path: applier.databasePath)
        let store = try Store(replicaConfiguration: storeConfig, gate: applier.lock)
        defer { store.close() }
        let exporter = try Telemetry.bootstrapTracing(serviceName: "ojs-edge-replica", logger: logger)
        config.tracing = exporter != nil
        let forwardClient = ReplicaServer.makeForwardClient(config)
        let app = ReplicaServer.makeApplication(
            store: store,
            tailer: tailer,
            region: region,
            primaryURL: tailerConfig.primaryURL,
            forwardClient: forwardClient,
            config: config,
            logger: logger,
            services: exporter.map { [$0] } ?? []
        )
        do {
            try await app.runService()
        } catch {
            try? await forwardClient.shutdown()
            throw error
        }
        try await forwardClient.shutdown()
    }
}

/// JSON-lines logging for every subcommand.
enum LogSetup {
    static let defaultLevel = "info"

    /// `--log-level` must name a level; every subcommand that takes it checks it the same way.
    static func validate(_ text: String) throws {
        guard Logger.Level(rawValue: text.lowercased()) != nil else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical.")
        }
    }

    static func bootstrap(level text: String, label: String) -> Logger {
        let level = Logger.Level(rawValue: text.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
