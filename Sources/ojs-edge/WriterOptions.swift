import ArgumentParser
import Foundation
import OJSCore
import OJSServer
import OJSStore

/// What every command that may lead takes for its writer: durability, the size quota, the
/// idempotency windows, the push targets' allowlist and the sealing key. Shared by `serve`
/// and `node`, so both spell and default them the same way.
struct WriterOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "SQLite synchronous mode: FULL (fsync each commit; survives power loss), NORMAL (survives "
                + "process crashes) or EXTRA (accepted; in WAL mode the same as FULL) (env OJS_SYNCHRONOUS).",
            valueName: "mode"
        )
    )
    var synchronous: String = Env.string("OJS_SYNCHRONOUS") ?? Defaults.store.synchronous.rawValue

    @Option(name: .customLong("max-db-bytes"), help: "Quota on the database size; writes past it get 507 storage_full (env OJS_MAX_DB_BYTES).")
    var maxDatabaseBytes: Int64? = Env.int("OJS_MAX_DB_BYTES").map(Int64.init)

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
        guard idempotencyWindowSeconds > 0 else { throw ValidationError("--idempotency-window-seconds must be positive.") }
        guard workerReplayWindowSeconds > 0 else { throw ValidationError("--worker-replay-window-seconds must be positive.") }
        do {
            _ = try PushTargetPolicy(allow: pushAllowHosts.split(separator: ",").map(String.init))
        } catch {
            throw ValidationError("--push-allow-hosts: \((error as? OJSError)?.message ?? "\(error)")")
        }
    }

    func apply(to config: inout ServerConfiguration) {
        config.idempotencyWindowMs = Int64(idempotencyWindowSeconds) * 1000
        config.pushTargets = (try? PushTargetPolicy(allow: pushAllowHosts.split(separator: ",").map(String.init))) ?? PushTargetPolicy()
        config.workerReplayWindowMs = Int64(workerReplayWindowSeconds) * 1000
    }

    func apply(to store: inout StoreConfiguration) {
        store.synchronous = SynchronousMode(rawValue: synchronous.uppercased()) ?? .full
        store.maxDatabaseBytes = maxDatabaseBytes
    }

    /// The sealing key (`SecretKeyOptions`).
    func secretSealer(dataDir: String) throws -> SecretSealer {
        try SecretKeyOptions.sealer(dataDir: dataDir, secretKeyFile: secretKeyFile)
    }
}
