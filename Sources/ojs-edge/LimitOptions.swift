import ArgumentParser
import OJSServer

/// The request and connection limits, shared by `serve` and `replica` (a replica applies them
/// before it forwards anything). Defaults come from `ServerConfiguration` and
/// `RequestLimits`; `docs/security.md` lists them.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body, in bytes (env OJS_MAX_BODY_BYTES).")
    var maxBodyBytes: Int = Env.int("OJS_MAX_BODY_BYTES") ?? Defaults.server.maxBodyBytes

    @Option(name: .customLong("max-header-bytes"), help: "Largest request head, in bytes; 431 past it (env OJS_MAX_HEADER_BYTES).")
    var maxHeaderBytes: Int = Env.int("OJS_MAX_HEADER_BYTES") ?? Defaults.server.maxHeaderBytes

    @Option(
        name: .customLong("request-timeout-ms"),
        help: "Time to receive a whole request once its head arrived; 408 past it (env OJS_REQUEST_TIMEOUT_MS)."
    )
    var requestTimeoutMs: Int = Env.int("OJS_REQUEST_TIMEOUT_MS") ?? Defaults.server.requestTimeoutMs

    @Option(name: .customLong("idle-timeout-ms"), help: "Close a connection idle this long (env OJS_IDLE_TIMEOUT_MS).")
    var idleTimeoutMs: Int = Env.int("OJS_IDLE_TIMEOUT_MS") ?? Defaults.server.idleTimeoutMs

    @Option(name: .customLong("max-connections"), help: "Connections served at once; more wait in the backlog (env OJS_MAX_CONNECTIONS).")
    var maxConnections: Int = Env.int("OJS_MAX_CONNECTIONS") ?? Defaults.server.maxConnections

    @Option(name: .customLong("max-batch-size"), help: "Jobs in one batch push (env OJS_MAX_BATCH_SIZE).")
    var maxBatchSize: Int = Env.int("OJS_MAX_BATCH_SIZE") ?? Defaults.server.limits.maxBatchSize

    @Option(name: .customLong("max-args-bytes"), help: "Serialized size of one job's args (env OJS_MAX_ARGS_BYTES).")
    var maxArgsBytes: Int = Env.int("OJS_MAX_ARGS_BYTES") ?? Defaults.server.limits.maxArgsBytes

    @Option(name: .customLong("max-meta-bytes"), help: "Serialized size of one job's meta (env OJS_MAX_META_BYTES).")
    var maxMetaBytes: Int = Env.int("OJS_MAX_META_BYTES") ?? Defaults.server.limits.maxMetaBytes

    @Option(name: .customLong("max-fetch-queues"), help: "Queues named in one fetch (env OJS_MAX_FETCH_QUEUES).")
    var maxFetchQueues: Int = Env.int("OJS_MAX_FETCH_QUEUES") ?? Defaults.server.limits.maxQueuesPerFetch

    @Option(name: .customLong("max-fetch-count"), help: "Jobs claimed by one fetch (env OJS_MAX_FETCH_COUNT).")
    var maxFetchCount: Int = Env.int("OJS_MAX_FETCH_COUNT") ?? Defaults.server.limits.maxFetchCount

    @Option(
        name: .customLong("max-event-streams"),
        help: "Event streams (GET /ojs/v1/events/stream) open at once; 503 past it (env OJS_MAX_EVENT_STREAMS)."
    )
    var maxEventStreams: Int = Env.int("OJS_MAX_EVENT_STREAMS") ?? Defaults.server.maxEventStreams

    @Option(
        name: .customLong("event-stream-heartbeat-ms"),
        help: "An idle event stream writes a heartbeat comment after this long (env OJS_EVENT_STREAM_HEARTBEAT_MS)."
    )
    var eventStreamHeartbeatMs: Int = Env.int("OJS_EVENT_STREAM_HEARTBEAT_MS") ?? Defaults.server.eventStreamHeartbeatMs

    func validate() throws {
        let positive: [(String, Int)] = [
            ("--max-body-bytes", maxBodyBytes), ("--max-header-bytes", maxHeaderBytes), ("--request-timeout-ms", requestTimeoutMs),
            ("--idle-timeout-ms", idleTimeoutMs), ("--max-connections", maxConnections), ("--max-batch-size", maxBatchSize),
            ("--max-args-bytes", maxArgsBytes), ("--max-meta-bytes", maxMetaBytes), ("--max-fetch-queues", maxFetchQueues),
            ("--max-fetch-count", maxFetchCount), ("--max-event-streams", maxEventStreams),
            ("--event-stream-heartbeat-ms", eventStreamHeartbeatMs),
        ]
        for (name, value) in positive where value <= 0 { throw ValidationError("\(name) must be positive.") }
    }

    func apply(to config: inout ServerConfiguration) {
        config.maxBodyBytes = maxBodyBytes
        config.maxHeaderBytes = maxHeaderBytes
        config.requestTimeoutMs = requestTimeoutMs
        config.idleTimeoutMs = idleTimeoutMs
        config.maxConnections = maxConnections
        config.limits.maxBatchSize = maxBatchSize
        config.limits.maxArgsBytes = maxArgsBytes
        config.limits.maxMetaBytes = maxMetaBytes
        config.limits.maxQueuesPerFetch = maxFetchQueues
        config.limits.maxFetchCount = maxFetchCount
        config.maxEventStreams = maxEventStreams
        config.eventStreamHeartbeatMs = eventStreamHeartbeatMs
    }
}
