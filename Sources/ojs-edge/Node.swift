import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import OJSReplication
import OJSServer
import OJSStore

struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a failover node: the primary while it holds the cluster's leader lease in etcd, a replica of the leader otherwise.",
        discussion: "See docs/failover.md. Every option also reads the environment variable named in its help."
    )

    @Option(name: .customLong("etcd"), help: "etcd client URLs, comma-separated (env OJS_ETCD_ENDPOINTS).")
    var etcd: String = Env.string("OJS_ETCD_ENDPOINTS") ?? ""

    @Option(help: "The cluster's name: nodes with the same name elect one leader (env OJS_CLUSTER).")
    var cluster: String = Env.string("OJS_CLUSTER") ?? ""

    @Option(help: "This node's name and region, unique in the cluster (env OJS_REGION).")
    var region: String = Env.string("OJS_REGION") ?? ""

    @Option(help: "The URL other nodes and clients reach this node at, e.g. http://10.0.0.2:8080 (env OJS_ADVERTISE_URL).")
    var advertise: String = Env.string("OJS_ADVERTISE_URL") ?? ""

    @Option(help: "Address to listen on (env OJS_HOST).")
    var host: String = Env.string("OJS_HOST") ?? Defaults.server.host

    @Option(help: "Port to listen on (env OJS_PORT).")
    var port: Int = Env.int("OJS_PORT") ?? Defaults.server.port

    @Option(name: .customLong("data-dir"), help: "Directory holding this node's database and log in either role (env OJS_DATA_DIR).")
    var dataDir: String = Env.string("OJS_DATA_DIR") ?? "./data"

    @Option(
        name: .customLong("lease-ttl-ms"),
        help: ArgumentHelp(
            "The leader lease's time to live. The leader stops committing a margin before it can expire; a failover "
                + "takes about this long plus the margin. etcd grants whole seconds, at least 2 (env OJS_LEASE_TTL_MS).",
            valueName: "ms"
        )
    )
    var leaseTTLms: Int = Env.int("OJS_LEASE_TTL_MS") ?? EtcdCoordination.defaultLeaseTTLms

    @Flag(
        name: .customLong("test-mode"),
        help: "Enable POST /ojs/v1/admin/reset and heartbeat test directives (env OJS_TEST_MODE=1). Never in production."
    )
    var testModeFlag = false

    @OptionGroup(title: "Writer (while leading)")
    var writer: WriterOptions

    @OptionGroup(title: "Synchronous replicas (while leading)")
    var sync: SyncOptions

    @OptionGroup(title: "Reads and forwarding (while following)")
    var reads: ReplicaReadOptions

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    @OptionGroup(title: "Scheduling")
    var scheduling: SchedulingOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env OJS_LOG_LEVEL).")
    var logLevel: String = Env.string("OJS_LOG_LEVEL") ?? LogSetup.defaultLevel

    var endpoints: [String] { etcd.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    func validate() throws {
        guard !endpoints.isEmpty, endpoints.allSatisfy({ $0.hasPrefix("http://") || $0.hasPrefix("https://") }) else {
            throw ValidationError("--etcd must list one or more http(s) URLs of etcd members.")
        }
        guard ReplicaRegistry.isValidRegion(cluster) else {
            throw ValidationError("--cluster must be 1-\(ReplicaRegistry.maxRegionLength) ASCII letters, digits, '-', '_' or '.'.")
        }
        guard ReplicaRegistry.isValidRegion(region) else {
            throw ValidationError("--region must be 1-\(ReplicaRegistry.maxRegionLength) ASCII letters, digits, '-', '_' or '.'.")
        }
        guard advertise.hasPrefix("http://") || advertise.hasPrefix("https://") else {
            throw ValidationError("--advertise must be the http(s) URL other nodes reach this one at.")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535.") }
        guard leaseTTLms >= EtcdCoordination.minimumLeaseTTLms else {
            throw ValidationError("--lease-ttl-ms must be at least \(EtcdCoordination.minimumLeaseTTLms) (etcd's minimum lease).")
        }
        try LogSetup.validate(logLevel)
    }

    func run() async throws {
        let logger = LogSetup.bootstrap(level: logLevel, label: "ojs-edge.node.\(region)")
        ParentWatchdog.startIfRequested()
        var config = ServerConfiguration()
        config.host = host
        config.port = port
        config.testMode = testModeFlag || Env.bool("OJS_TEST_MODE")
        limits.apply(to: &config)
        writer.apply(to: &config)
        sync.apply(to: &config)
        reads.apply(to: &config)
        config.replicationKeys = ServerConfiguration.parseKeys(Env.string("OJS_REPLICATION_KEY"))
        config.apiKeys = ServerConfiguration.parseKeys(Env.string("OJS_API_KEY"))
        if let refusal = config.startupRefusal(allowInsecureNoAuth: Env.bool("OJS_ALLOW_INSECURE_NO_AUTH")) {
            logger.critical("refusing to start", metadata: ["reason": .string(refusal)])
            FileHandle.standardError.write(Data(("ojs-edge: " + refusal + "\n").utf8))
            throw ExitCode(78)
        }
        let directory = NodeDataDirectory(url: URL(fileURLWithPath: dataDir))
        var storeConfig = StoreConfiguration(path: directory.databasePath)
        writer.apply(to: &storeConfig)
        scheduling.apply(to: &config, store: &storeConfig)
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            storeConfig.secretSealer = try writer.secretSealer(dataDir: dataDir)
        } catch {
            let reason = "cannot prepare the data directory \(dataDir) or the key that seals push secrets: \(error)"
            logger.critical("refusing to start", metadata: ["reason": .string(reason)])
            FileHandle.standardError.write(Data(("ojs-edge: " + reason + "\n").utf8))
            throw ExitCode(73)
        }
        let replicationKey = config.replicationKeys.first
        let name = region
        var settings = NodeRuntime.Settings(
            name: name,
            advertiseURL: advertise.hasSuffix("/") ? String(advertise.dropLast()) : advertise,
            directory: directory,
            server: config,
            store: storeConfig,
            attachSource: { store, logDirectory in try await ReplicationLogOptions.attach(store: store, directory: logDirectory, logger: logger) },
            tailer: { url in TailerOptions.configuration(primaryURL: url, region: name, replicationKey: replicationKey) }
        )
        settings.relayLimits = ReplicationLogOptions.relayLimits()
        let coordination = EtcdCoordination(
            endpoints: endpoints,
            cluster: cluster,
            name: name,
            advertiseURL: settings.advertiseURL,
            leaseTTLms: leaseTTLms,
            logger: logger
        )
        let forwardClient = ReplicaServer.makeForwardClient(config)
        let runtime = NodeRuntime(settings: settings, cluster: cluster, coordination: coordination, forwardClient: forwardClient, logger: logger)
        let exporter = try Telemetry.bootstrapTracing(serviceName: "ojs-edge-node", logger: logger)
        config.tracing = exporter != nil
        logger.info(
            "node starting",
            metadata: [
                "cluster": .string(cluster), "region": .string(region), "advertise": .string(settings.advertiseURL),
                "etcd": .string(endpoints.joined(separator: ",")), "data_dir": .string(dataDir),
                "lease_ttl_ms": .stringConvertible(leaseTTLms), "sync_replicas": .stringConvertible(config.sync.replicas),
            ]
        )
        let app = NodeServer.makeApplication(runtime: runtime, config: config, logger: logger, services: exporter.map { [$0] } ?? [])
        do {
            try await app.runService()
        } catch {
            try? await forwardClient.shutdown()
            throw error
        }
        try await forwardClient.shutdown()
    }
}
