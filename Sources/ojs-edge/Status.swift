import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import OJSCore
import OJSServer

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show replication lag per replica and queue health; exit non-zero when a replica is disconnected or past --max-lag."
    )

    @Option(help: "The primary's base URL, or any failover node's (env OJS_PRIMARY_URL).")
    var primary: String = Env.string("OJS_PRIMARY_URL") ?? "http://\(Defaults.server.host):\(Defaults.server.port)"

    @Flag(help: "Redraw every second until interrupted.")
    var watch = false

    @Option(name: .customLong("max-lag"), help: "Lag in milliseconds past which a replica counts as unhealthy.")
    var maxLag: Int64?

    func run() async throws {
        let client = HTTPClient.shared
        let base = primary.hasSuffix("/") ? String(primary.dropLast()) : primary
        repeat {
            let report: StatusReport
            do {
                report = try await Self.fetch(base: base, client: client)
            } catch {
                FileHandle.standardError.write(Data("cannot reach \(base): \(error)\n".utf8))
                if !watch { throw ExitCode(2) }
                try await Task.sleep(for: .seconds(1))
                continue
            }
            let alerts = report.alerts(maxLagMs: maxLag)
            if watch { print("\u{1B}[2J\u{1B}[H", terminator: "") }
            print(report.render())
            for a in alerts { print("ALERT: \(a)") }
            if !watch {
                if !alerts.isEmpty { throw ExitCode(1) }
                return
            }
            try await Task.sleep(for: .seconds(1))
        } while !Task.isCancelled
    }

    static func fetch(base given: String, client: HTTPClient) async throws -> StatusReport {
        var base = given
        var status = try await get(base + "/ojs/v1/replication/status", client: client)
        let cluster = ClusterSummary(status: status)
        // A failover node that follows: the replicas' lag and the queues are the leader's.
        if let leaderURL = cluster?.leaderURL, status["role"]?.stringValue != "primary" {
            base = leaderURL
            status = try await get(base + "/ojs/v1/replication/status", client: client)
        }
        let queueList = try await get(base + "/ojs/v1/queues?limit=1000", client: client)
        let dlq = try await get(base + "/ojs/v1/admin/dead-letter/stats", client: client)
        var queues: [StatusReport.Queue] = []
        for q in queueList["queues"]?.arrayValue ?? [] {
            guard let name = q["name"]?.stringValue else { continue }
            let stats = try await get(base + "/ojs/v1/queues/\(name)/stats", client: client)
            let oldest = stats["stats"]?["oldest_available_at"]?.stringValue.flatMap(Timestamp.parse)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            queues.append(
                StatusReport.Queue(
                    name: name,
                    depth: stats["stats"]?["depth"]?.intValue ?? 0,
                    available: stats["queue"]?["available"]?.intValue ?? 0,
                    oldestAgeMs: oldest.map { max(0, now - $0) },
                    paused: stats["queue"]?["paused"]?.boolValue ?? false
                )
            )
        }
        var report = StatusReport(
            primaryTxid: status["txid"]?.intValue ?? 0,
            replicas: StatusReport.replicas(fromStatus: status),
            queues: queues,
            deadLetters: dlq["total"]?.intValue ?? 0
        )
        report.cluster = ClusterSummary(status: status) ?? cluster
        return report
    }

    static func get(_ url: String, client: HTTPClient) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        // The status endpoints take an API key (replication status also the replication key);
        // with several keys configured, the first is this node's own.
        let key =
            ServerConfiguration.parseKeys(Env.string("OJS_API_KEY")).first ?? ServerConfiguration.parseKeys(Env.string("OJS_REPLICATION_KEY")).first
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let response = try await client.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status.code == 200 else { throw ValidationError("\(url) answered \(response.status.code)") }
        return try JSONParser.parse(Array(buffer: body))
    }
}
