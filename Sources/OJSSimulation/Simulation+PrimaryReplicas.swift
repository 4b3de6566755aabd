import AsyncHTTPClient
import Foundation
import NIOPosix

extension Simulation {
    /// The default mode: a primary (`serve`) and one `replica` per region. Each replica reaches
    /// the primary through its region's `primary_link` proxy and its clients reach it through
    /// the client link proxy.
    func startPrimaryAndReplicas(
        client: HTTPClient,
        group: MultiThreadedEventLoopGroup,
        rng: inout SplitMix,
        proxies: inout [LinkProxy]
    ) async throws -> Deployment {
        let topology = options.topology
        let dir = options.workDirectory
        let primaryPort = try PortAllocator.free()
        let primaryURL = "http://127.0.0.1:\(primaryPort)"
        try supervisor.start(
            .init(
                name: "primary",
                port: primaryPort,
                arguments: [
                    "serve", "--host", "127.0.0.1", "--port", "\(primaryPort)", "--data-dir", dir.appendingPathComponent("primary").path,
                    "--log-level", "warning",
                ]
            )
        )
        try await waitUntilAnswering("primary", url: primaryURL, healthy: true, client: client)
        log("primary on \(primaryURL)")

        var deployment = Deployment(links: [:], clientURLs: [:], nodeURLs: [:], primaryURL: primaryURL)
        for region in topology.regions {
            let toPrimary = try await LinkProxy.start(
                name: "\(region.name)->primary",
                link: region.primaryLink,
                upstreamPort: primaryPort,
                seed: rng.next(),
                group: group
            )
            proxies.append(toPrimary)
            let port = try PortAllocator.free()
            try supervisor.start(
                .init(
                    name: region.name,
                    port: port,
                    arguments: [
                        "replica", "--primary", "http://127.0.0.1:\(toPrimary.port)", "--region", region.name, "--host", "127.0.0.1", "--port",
                        "\(port)",
                        "--data-dir", dir.appendingPathComponent("replica-\(region.name)").path, "--consistency-wait-ms",
                        "\(topology.consistencyWaitMs ?? 2000)",
                        "--log-level", "warning",
                    ]
                )
            )
            try await deployment.addRegion(
                region,
                nodePort: port,
                toPrimary: toPrimary,
                seed: rng.next(),
                group: group,
                proxies: &proxies
            )
        }
        for region in topology.regions {
            let url = deployment.nodeURLs[region.name] ?? ""
            try await waitUntilAnswering(region.name, url: url, healthy: true, client: client)
            log("replica \(region.name) streaming on \(url), its clients connect through \(deployment.clientURLs[region.name] ?? "")")
        }
        return deployment
    }
}
