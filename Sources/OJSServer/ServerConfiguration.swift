import Foundation
import OJSCore
import OJSReplication

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
    /// How long a push's `Idempotency-Key` replays its first answer: a producer may retry
    /// after a crash and restart, so a day.
    public var idempotencyWindowMs: Int64 = 24 * 3_600_000
    /// How long a worker's keyed fetch, ack or nack (every one a replica forwards) replays
    /// its first answer. Equal to the default visibility timeout (30 minutes): past it the
    /// claim a replayed fetch hands back has lapsed anyway.
    public var workerReplayWindowMs: Int64 = 30 * 60_000
    /// Spans for requests and job lifecycles (an OTLP exporter is bootstrapped). Off, the
    /// server only copies a client's `traceparent` header into the job's meta.
    public var tracing = false

    /// Delivers the jobs of queues bound to function URLs (primary only; `docs/serverless.md`).
    public var pushDelivery = true
    /// Internal addresses push deliveries may reach anyway (`--push-allow-hosts`); empty, every
    /// loopback, private, link-local, unspecified and multicast address is refused.
    public var pushTargets = PushTargetPolicy()
    /// The push dispatcher's longest wait between passes when no commit wakes it.
    public var pushPollMs = 1000

    /// API keys; when non-empty every route outside `AccessPolicy`'s allowlist needs one as a
    /// Bearer token.
    public var apiKeys: [String] = []
    /// Replication keys (`OJS_REPLICATION_KEY`, comma-separated like the API keys): one of them
    /// is required as `Authorization: Bearer …` on the replication endpoints whenever any key is
    /// set (`AccessPolicy`); with API keys but no replication key they are closed. Several keys
    /// let a primary accept the old and the new key during a rotation; a replica sends the first.
    public var replicationKeys: [String] = []
    /// How long a replica holds a read whose bookmark (or staleness bound) it cannot meet yet,
    /// before forwarding it to the primary.
    public var consistencyWaitMs = 2000
    /// A replica whose lag passes this reports degraded health (503).
    public var replicaMaxLagMs = 10_000
    /// Connections a replica keeps to the primary for forwarded requests, in a client of its
    /// own (the replication stream has another). A forward holds one for a round trip: at
    /// 100 ms between regions, 64 carry about 640 forwarded calls a second; more wait.
    public var forwardPoolSize = 64
    /// How long a replica waits for the primary's answer to a forwarded request. Past it the
    /// client gets 504 `x_outcome_unknown`: shorter than the 30 s many HTTP clients allow, so
    /// the client hears that before it gives up on its own.
    public var forwardTimeoutMs = 10_000
    /// Tries for a forwarded request that is safe to repeat (push, fetch, ack, nack: each
    /// carries an idempotency key) when the connection breaks; the waits between are 100,
    /// 200 and 400 ms, so a broken connection costs under a second.
    public var forwardAttempts = 4
    /// Synchronous replicas (`--sync-replicas`, `--sync-timeout-ms`, `--sync-degrade`): off by
    /// default (0 replicas), which leaves the request path exactly as it is without them.
    public var sync = SyncPolicy()

    /// Event streams (`GET /ojs/v1/events/stream`) open at once on this node; past it 503.
    public var maxEventStreams = ServerConfiguration.defaultMaxEventStreams
    /// Half of the default 1,024 connections: each stream holds a connection for as long as
    /// it lasts, and the other half stays for the workers and producers, whose fetches and
    /// acks must never wait behind dashboards.
    public static let defaultMaxEventStreams = 512
    /// An idle event stream writes a `: heartbeat` comment after this long.
    public var eventStreamHeartbeatMs = ServerConfiguration.defaultEventStreamHeartbeatMs
    /// 15 s: proxies and load balancers commonly close connections idle for 30–60 s (nginx's
    /// `proxy_read_timeout` is 60 s, AWS ALB's idle timeout 60 s, some at 30 s), so two
    /// heartbeats fit in the shortest of them.
    public static let defaultEventStreamHeartbeatMs = 15_000
    /// The `retry:` an event stream announces: how long a browser's `EventSource` waits before
    /// it reconnects after the stream ends. 2 s is about one failover's election (a lease of
    /// a few seconds), so a client does not hammer a node between roles, nor wait long.
    public var eventStreamRetryMs = 2_000

    /// A replica's port when none is given: one above the primary's, so both run on one host.
    public static let defaultReplicaPort = 8081
    /// The primary reports degraded health (503) when requests wait and the writer has
    /// finished no batch for this long. A bounded transaction takes tens of milliseconds and an
    /// fsync on a slow disk well under a second, so 10 s is stuck, not busy.
    public var writerStallMs = 10_000

    public init() {}
}

extension ServerConfiguration {
    /// Keys as `OJS_API_KEY` and `OJS_REPLICATION_KEY` give them: one key, or several separated
    /// by commas.
    public static func parseKeys(_ text: String?) -> [String] {
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
            return
                "Refusing to listen on \(host) without an API key: set OJS_API_KEY (or "
                + "OJS_ALLOW_INSECURE_NO_AUTH=true to accept unauthenticated access)."
        }
        // The replication endpoints hand out the whole database (snapshot, stream): off
        // loopback they need their own key, which an API key does not replace.
        if !loopback && replicationKeys.isEmpty && !allowInsecureNoAuth {
            return
                "Refusing to listen on \(host) without a replication key: the replication endpoints serve the whole database. Set "
                + "OJS_REPLICATION_KEY on this node and its replicas (or OJS_ALLOW_INSECURE_NO_AUTH=true to accept unauthenticated access)."
        }
        return nil
    }
}
