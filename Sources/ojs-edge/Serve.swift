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

    @Option(
        help: ArgumentHelp(
            "SQLite synchronous mode: FULL (fsync each commit; survives power loss), NORMAL (survives "
                + "process crashes) or EXTRA (accepted; in WAL mode the same as FULL) (env OJS_SYNCHRONOUS).",
            valueName: "mode"
        )
    )
    var synchronous: String = Env.string("OJS_SYNCHRONOUS") ?? Defaults.store.synchronous.rawValue

    @Flag(
        name: .customLong("test-mode"),
        help: "Enable POST /ojs/v1/admin/reset and heartbeat test directives (env OJS_TEST_MODE=1). Never in production."
    )
    var testModeFlag = false

    /// The flag or the variable: ArgumentParser refuses a flag whose default is `true` (a
    /// debug build stops at start-up), so the environment is not read as the default.
    var testMode: Bool { testModeFlag || Env.bool("OJS_TEST_MODE") }

    @Option(name: .customLong("max-db-bytes"), help: "Quota on the database size; writes past it get 507 storage_full (env OJS_MAX_DB_BYTES).")
    var maxDatabaseBytes: Int64? = Env.int("OJS_MAX_DB_BYTES").map(Int64.init)

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    @OptionGroup(title: "Scheduling")
    var scheduling: SchedulingOptions

    @OptionGroup(title: "Synchronous replicas")
    var sync: SyncOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env OJS_LOG_LEVEL).")
    var logLevel: String = Env.string("OJS_LOG_LEVEL") ?? LogSetup.defaultLevel

    @Option(
        name: .customLong("idempotency-window-seconds"),
        help: "How long a push's Idempotency-Key replays its first answer (env OJS_IDEMPOTENCY_WINDOW_SECONDS)."
    )
    var idempotencyWindowSeconds: Int = Env.int("OJS_IDEMPOTENCY_WINDOW_SECONDS") ?? Int(Defaults.server.idempotencyWindowMs / 1000)

    @Option(
        name: .customLong("worker-replay-window-seconds"),
        help: ArgumentHelp(
            "How long a worker's fetch, ack or nack sent with an Idempotency-Key (every one a "
                + "replica forwards) replays its first answer (env OJS_WORKER_REPLAY_WINDOW_SECONDS)."
        )
    )
    var workerReplayWindowSeconds: Int = Env.int("OJS_WORKER_REPLAY_WINDOW_SECONDS") ?? Int(Defaults.server.workerReplayWindowMs / 1000)

    @Option(
        name: .customLong("push-config"),
        help: ArgumentHelp(
            "A JSON file binding queues to function URLs for push delivery, applied at start (env OJS_PUSH_CONFIG; see docs/serverless.md).",
            valueName: "path"
        )
    )
    var pushConfig: String? = Env.string("OJS_PUSH_CONFIG")

    @Option(
        name: .customLong("push-allow-hosts"),
        help: ArgumentHelp(
            "Comma-separated hosts or CIDR ranges that push deliveries may reach although they are internal "
                + "(loopback, private, link-local), e.g. 127.0.0.1/32,fn.internal (env OJS_PUSH_ALLOW_HOSTS).",
            valueName: "list"
        )
    )
    var pushAllowHosts: String = Env.string("OJS_PUSH_ALLOW_HOSTS") ?? ""

    @Option(
        name: .customLong("secret-key-file"),
        help: ArgumentHelp(
            "File holding the key that seals push secrets, created with mode 0600 on first start; "
                + "ignored when OJS_SECRET_KEY is set (env OJS_SECRET_KEY_FILE; default <data-dir>/secret.key).",
            valueName: "path"
        )
    )
    var secretKeyFile: String = Env.string("OJS_SECRET_KEY_FILE") ?? ""

    func validate() throws {
        guard SynchronousMode(rawValue: synchronous.uppercased()) != nil else {
            throw ValidationError("--synchronous must be FULL, NORMAL or EXTRA.")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535.") }
        try LogSetup.validate(logLevel)
        guard idempotencyWindowSeconds > 0 else { throw ValidationError("--idempotency-window-seconds must be positive.") }
        guard workerReplayWindowSeconds > 0 else { throw ValidationError("--worker-replay-window-seconds must be positive.") }
        do {
            _ = try PushTargetPolicy(allow: pushAllowHosts.split(separator: ",").map(String.init))
        } catch {
            throw ValidationError("--push-allow-hosts: \((error as? OJSError)?.message ?? "\(error)")")
        }
    }

    /// The sealing key: `OJS_SECRET_KEY`, else the key file (created on first start), plus the
    /// previous keys of a rotation (`OJS_SECRET_KEY_PREVIOUS`, comma-separated).
    func secretSealer() throws -> SecretSealer {
        let key: [UInt8]
        if let text = Env.string("OJS_SECRET_KEY") {
            key = try SecretSealer.parseKey(text)
        } else {
            let path = secretKeyFile.isEmpty ? URL(fileURLWithPath: dataDir).appendingPathComponent(SecretKeyFile.defaultName).path : secretKeyFile
            key = try SecretKeyFile.loadOrCreate(path: path)
        }
        let previous = try (Env.string("OJS_SECRET_KEY_PREVIOUS") ?? "").split(separator: ",").map { try SecretSealer.parseKey(String($0)) }
        return try SecretSealer(key: key, previous: previous)
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
        config.idempotencyWindowMs = Int64(idempotencyWindowSeconds) * 1000
        config.pushTargets = (try? PushTargetPolicy(allow: pushAllowHosts.split(separator: ",").map(String.init))) ?? PushTargetPolicy()
        config.workerReplayWindowMs = Int64(workerReplayWindowSeconds) * 1000
        if let refusal = config.startupRefusal(allowInsecureNoAuth: Env.bool("OJS_ALLOW_INSECURE_NO_AUTH")) {
            logger.critical("refusing to start", metadata: ["reason": .string(refusal)])
            FileHandle.standardError.write(Data(("ojs-edge: " + refusal + "\n").utf8))
            throw ExitCode(78)
        }

        var storeConfig = StoreConfiguration(path: URL(fileURLWithPath: dataDir).appendingPathComponent("ojs.db").path)
        storeConfig.synchronous = SynchronousMode(rawValue: synchronous.uppercased()) ?? .full
        storeConfig.maxDatabaseBytes = maxDatabaseBytes
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
            storeConfig.secretSealer = try secretSealer()
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
            replication = try await ReplicationSource.attach(
                to: store,
                directory: URL(fileURLWithPath: dataDir).appendingPathComponent("replication"),
                logger: logger,
                segmentBytes: Env.int("OJS_REPLICATION_SEGMENT_KB").map { $0 << 10 } ?? ReplicationLog.defaultSegmentBytes,
                retentionBytes: Env.int("OJS_REPLICATION_RETENTION_KB").map { $0 << 10 } ?? ReplicationLog.defaultRetentionBytes,
                retentionAgeMs: Env.int("OJS_REPLICATION_RETENTION_HOURS").map { Int64($0) * 3_600_000 } ?? ReplicationLog.defaultRetentionAgeMs,
                logSyncIntervalMs: Env.int("OJS_REPLICATION_LOG_SYNC_MS").map(Int64.init) ?? ReplicationLog.defaultSyncIntervalMs,
                recordPageBytes: max(1, Env.int("OJS_REPLICATION_RECORD_KB") ?? TransactionEncoder.defaultPartPageBytes >> 10) << 10
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
