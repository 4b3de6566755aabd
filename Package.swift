// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "ojs-edge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ojs-edge", targets: ["ojs-edge"]),
        .executable(name: "ojs-bench", targets: ["ojs-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Already in the graph through Hummingbird; named so the connection guard can be a NIO handler.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // Already in the graph through Hummingbird; named because OJSServer uses its field types directly.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Benchmarks only (ojs-bench): latency histograms.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Tests only: property-based fuzzing of every endpoint.
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // SHA-256, HMAC and AES-GCM (sealed push secrets): no hand-written cryptography. Already in
        // the graph through swift-certificates.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // OTLP/HTTP only: the gRPC exporter would add grpc-swift to every build for nothing.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "OJSCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "OJSStore",
            dependencies: ["OJSCore", "CSQLite", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "OJSReplication",
            dependencies: [
                "OJSCore", "OJSStore", "CSQLite", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "OJSServer",
            dependencies: [
                "OJSCore", "OJSStore", "OJSReplication", "OJSCluster",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The forwarder tells "never connected" (503) from "answer lost" (504) by NIOPosix's error type.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        // Failover coordination: the etcd v3 JSON-gateway client, membership and leader election.
        // Deliberately free of the store and replication: positions arrive as plain values.
        .target(
            name: "OJSCluster",
            dependencies: [
                "OJSCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The edge simulator: link proxies, process supervision, workload and report.
        .target(
            name: "OJSSimulation",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ojs-edge",
            dependencies: [
                "OJSCore", "OJSStore", "OJSServer", "OJSReplication", "OJSSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: strict
        ),
        // The load generator: plain sockets and threads, outside the server's dependency graph.
        .executableTarget(
            name: "ojs-bench",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "OJSCoreTests", dependencies: ["OJSCore"], swiftSettings: strict),
        .testTarget(name: "OJSStoreTests", dependencies: ["OJSStore", "OJSCore"], swiftSettings: strict),
        .testTarget(name: "OJSSimulationTests", dependencies: ["OJSSimulation"], swiftSettings: strict),
        // Against a real etcd process (skipped when `etcd` is not installed, unless OJS_REQUIRE_ETCD=1).
        .testTarget(
            name: "OJSClusterTests",
            dependencies: [
                "OJSCluster", "OJSCore", "OJSSimulation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OJSReplicationTests",
            dependencies: ["OJSReplication", "OJSStore", "OJSCore", "CSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OJSServerTests",
            dependencies: [
                "OJSServer", "OJSStore", "OJSCore", "OJSReplication",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict
        ),
        // Real processes: depends on the executable so `swift test` builds it first.
        // The push tests' example function is a small Hummingbird server that checks
        // signatures with the core's HMAC.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ojs-edge", "OJSSimulation", "OJSCore", "OJSServer", "OJSStore", "OJSReplication",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The failover tests cut a node off from etcd through the simulator's link proxy.
                .product(name: "NIOPosix", package: "swift-nio"),
                // The WebDriver harness: chromedriver writes header lines without a space after
                // the colon, which URLSession on Linux (libcurl glue) rejects ("Failed writing header").
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
    ]
)
