import ArgumentParser
import Foundation
import Hummingbird
import Logging
import OJSCore
import OJSReplication
import OJSServer
import OJSStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the primary: the OJS HTTP API over an embedded SQLite database."
    )

    @Option(help: "Address to listen on (env OJS_HOST).")
    var host: String = Env.string("OJS_HOST") ?? Defaults.server.host

    @Option(help: "Port to listen on (env OJS_PORT).")
    var port: Int = Env.int("OJS_PORT") ?? Defaults.server.port

    @Option(name: .customLong("data-dir"), help: "Directory holding ojs.db (env OJS_DATA_DIR).")
    var dataDir: String = Env.string("OJS_DATA_DIR") ?? "./data"

    @Flag(
        name: .customLong("test-mode"),
        help: "Enable POST /ojs/v1/admin/reset and heartbeat test directives (env OJS_TEST_MODE=1). Never in production."
    )
    var testModeFlag = false

    /// The flag or the variable: ArgumentParser refuses a flag whose default is `true` (a
    /// debug build stops at start-up), so the environment is not read as the default.
    var testMode: Bool { testModeFlag || Env.bool("OJS_TEST_MODE") }

    @OptionGroup(title: "Writer")
    var writer: WriterOptions

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    @OptionGroup(title: "Scheduling")
    var scheduling: SchedulingOptions

    @OptionGroup(title: "Synchronous replicas")
    var sync: SyncOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env OJS_LOG_LEVEL).")
    var logLevel: String = Env.string("OJS_LOG_LEVEL") ?? LogSetup.defaultLevel

    @Option(
        name: .customLong("push-config"),
        help: ArgumentHelp(
            "A JSON file binding queues to function URLs for push delivery, applied at start (env OJS_PUSH_CONFIG; see docs/serverless.md).",
            valueName: "path"
        )
    )
    var pushConfig: String? = Env.string("OJS_PUSH_CONFIG")

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535.") }
        try LogSetup.validate(logLevel)
    }

    func run() async throws {
        let logger = LogSetup.bootstrap(level: logLevel, label: "ojs-edge")
        ParentWatchdog.startIfRequested()
        // Checked before anything touches the data directory.
        var config = ServerConfiguration()
        config.host = host
        config.port = port
        config.testMode = testMode
        limits.apply(to: &config)
        sync.apply(to: &config)
        config.replicationKeys = ServerConfiguration.parseKeys(Env.string("OJS_REPLICATION_KEY"))
        config.apiKeys = ServerConfiguration.parseKeys(Env.string("OJS_API_KEY"))
        writer.apply(to: &config)
        if let refusal = config.startupRefusal(allowInsecureNoAuth: Env.bool("OJS_ALLOW_INSECURE_NO_AUTH")) {
            logger.critical("refusing to start", metadata: ["reason": .string(refusal)])
            FileHandle.standardError.write(Data(("ojs-edge: " + refusal + "\n").utf8))
            throw ExitCode(78)
        }

        var storeConfig = StoreConfiguration(path: URL(fileURLWithPath: dataDir).appendingPathComponent("ojs.db").path)
        writer.apply(to: &storeConfig)
        scheduling.apply(to: &config, store: &storeConfig)
        // A read-only or full data directory is an operator's problem to fix: say which.
        func refuse(_ error: any Error) -> ExitCode {
            let reason = "cannot open the data directory \(dataDir): \(error). Check that --data-dir exists, is writable and has free space."
            logger.critical("refusing to start", metadata: ["reason": .string(reason)])
            FileHandle.standardError.write(Data(("ojs-edge: " + reason + "\n").utf8))
            return ExitCode(73)
        }
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            storeConfig.secretSealer = try writer.secretSealer(dataDir: dataDir)
        } catch {
            let reason = "cannot load the key that seals push secrets: \(error)"
            logger.critical("refusing to start", metadata: ["reason": .string(reason)])
            FileHandle.standardError.write(Data(("ojs-edge: " + reason + "\n").utf8))
            throw ExitCode(78)
        }
        let store: Store
        do {
            store = try Store(configuration: storeConfig)
        } catch {
            throw refuse(error)
        }
        defer { store.close() }
        do {
            let report = try await store.resealPushSecrets()
            if report.resealed > 0 {
                logger.notice("push secrets sealed under the current key", metadata: ["count": .stringConvertible(report.resealed)])
            }
            if !report.unopenable.isEmpty {
                logger.error(
                    "push secrets sealed under a key this node does not have: give it in OJS_SECRET_KEY_PREVIOUS, or bind these endpoints again",
                    metadata: ["queues": .string(report.unopenable.joined(separator: ","))]
                )
            }
        } catch {
            throw refuse(error)
        }
        if !config.apiKeys.isEmpty && config.replicationKeys.isEmpty {
            logger.warning("API keys are set but OJS_REPLICATION_KEY is not: the replication endpoints are closed, so no replica can follow")
        }
        let replication: ReplicationSource
        do {
            replication = try await ReplicationLogOptions.attach(
                store: store,
                directory: URL(fileURLWithPath: dataDir).appendingPathComponent("replication"),
                logger: logger
            )
        } catch {
            throw refuse(error)
        }

        logger.info(
            "starting primary",
            metadata: [
                "host": .string(host), "port": .stringConvertible(port), "database": .string(storeConfig.path),
                "synchronous": .string(storeConfig.synchronous.rawValue), "test_mode": .stringConvertible(testMode),
                "serverless": .stringConvertible(config.serverless), "sync_replicas": .stringConvertible(config.sync.replicas),
            ]
        )
        if let pushConfig {
            do {
                let targets = PushTargetGuard(policy: config.pushTargets)
                for binding in try PushConfigFile.load(pushConfig) {
                    try await targets.checkBinding(binding.url)
                    try await store.bindPushEndpoint(binding, resetState: false)
                }
            } catch {
                let reason = "cannot apply the push configuration \(pushConfig): \(error)"
                logger.critical("refusing to start", metadata: ["reason": .string(reason)])
                FileHandle.standardError.write(Data(("ojs-edge: " + reason + "\n").utf8))
                throw ExitCode(78)
            }
        }
        let exporter = try Telemetry.bootstrapTracing(serviceName: "ojs-edge", logger: logger)
        config.tracing = exporter != nil
        let app = PrimaryServer.makeApplication(
            store: store,
            config: config,
            logger: logger,
            replication: replication,
            services: exporter.map { [$0] } ?? []
        )
        try await app.runService()
        do {
            try replication.log.sync()
        } catch {
            logger.error("replication log sync at shutdown failed", metadata: ["error": .string("\(error)")])
        }
    }
}
