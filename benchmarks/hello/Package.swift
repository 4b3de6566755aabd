// swift-tools-version:6.0
import PackageDescription

// The same-run ceiling for push (issue 20): a bare Hummingbird hello-world route.
// Its own package so that nothing here enters the server's dependency graph, and so that
// `swift build` of the server never builds it; only `benchmarks/run` does.
let package = Package(
    name: "hello-ceiling",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hello-ceiling", targets: ["hello-ceiling"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1")
    ],
    targets: [
        .executableTarget(
            name: "hello-ceiling",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        )
    ]
)
