import Foundation
import OJSCore

/// How the HTTP server behaves (storage settings live in `StoreConfiguration`).
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Enables `POST /ojs/v1/admin/reset` and the heartbeat test directives. Never in production.
    public var testMode = false
    /// Largest request body accepted (413 past it).
    public var maxBodyBytes = 1 << 20
    /// Largest request head (request line and all header fields); 431 past it.
    public var maxHeaderBytes = 16 * 1024
    /// Time a client has to send a whole request once its head arrived; 408 and the connection
    /// is closed past it, so a client dribbling a body cannot hold a connection forever.
    public var requestTimeoutMs = 30_000
    /// An open connection with no request in progress is closed after this long.
    public var idleTimeoutMs = 60_000
    /// Open connections served at once; further ones wait in the listen backlog until one closes.
    public var maxConnections = 1024
    /// Per-request bounds that need the parsed body (batch size, args/meta size, fetch width).
    public var limits = RequestLimits()
    /// Scheduler tick; 0 disables the background scheduler.
    public var tickIntervalMs = 100
    /// Serverless mode (`docs/serverless.md`): no background timers at all. The scheduler's
    /// work runs at the start of fetches, at a job GET that has a transition due, and from
    /// `POST /ojs/v1/admin/tick`. Set the store's `serverless` to match.
    public var serverless = false
    public var version = "0.1.0"
    /// The OJS conformance level advertised in the manifest: only what passes.
    public var conformanceLevel = 4
    /// Extensions advertised in the manifest: the conformance suites that pass
    /// (`docs/conformance.md`), then the features with no suite, each documented in `docs/`
    /// (`idempotency.md`, `tracing.md`).
    public var extensions = [
        "dead-letter", "admin-api", "progress", "backpressure", "rate-limiting", "graceful-shutdown", "idempotency", "tracing",
    ]
    /// How long an `Idempotency-Key`'s first answer is replayed to repeats.
    public var idempotencyWindowMs: Int64 = 24 * 3_600_000
    /// Spans for requests and job lifecycles (an OTLP exporter is bootstrapped). Off, the
    /// server only copies a client's `traceparent` header into the job's meta.
    public var tracing = false

    /// Delivers the jobs of queues bound to function URLs (primary only; `docs/serverless.md`).
    public var pushDelivery = true
    /// The push dispatcher's longest wait between passes when no commit wakes it.
    public var pushPollMs = 1000

    /// API keys; when non-empty every `/ojs/v1` endpoint but health needs one as a Bearer token.
    public var apiKeys: [String] = []
    /// Required as `Authorization: Bearer …` on the replication endpoints when set.
    public var replicationKey: String?
    /// How long a replica holds a read whose bookmark (or staleness bound) it cannot meet yet,
    /// before forwarding it to the primary.
    public var consistencyWaitMs = 2000
    /// A replica whose lag passes this reports degraded health (503).
    public var replicaMaxLagMs = 10_000
    /// The primary reports degraded health (503) when requests wait and the writer has
    /// finished no batch for this long. A bounded transaction takes tens of milliseconds and an
    /// fsync on a slow disk well under a second, so 10 s is stuck, not busy.
    public var writerStallMs = 10_000

    public init() {}
}

extension ServerConfiguration {
    /// Keys as `OJS_API_KEY` gives them: one key, or several separated by commas.
    public static func parseAPIKeys(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Why this configuration must not start, if it must not: an open listener without keys
    /// (unless explicitly allowed), or test mode (reset endpoint) reachable from the network.
    public func startupRefusal(allowInsecureNoAuth: Bool) -> String? {
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) || host.hasPrefix("127.")
        if testMode && !loopback {
            return "--test-mode enables POST /ojs/v1/admin/reset and is only allowed on a loopback address, not \(host)."
        }
        if !loopback && apiKeys.isEmpty && !allowInsecureNoAuth {
            return "Refusing to listen on \(host) without an API key: set OJS_API_KEY (or OJS_ALLOW_INSECURE_NO_AUTH=true to accept unauthenticated access)."
        }
        return nil
    }
}
