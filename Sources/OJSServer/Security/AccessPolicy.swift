import HTTPTypes

/// Which credential a request needs, decided from its method and its (canonical) path alone.
///
/// Deny by default: with any key configured, every request needs the API key except the
/// short allowlist below, and the replication endpoints need the replication key instead.
/// The allowlist, and why each entry is open (also in `docs/security.md`):
///
/// - `GET /ojs/v1/health`: load balancers and orchestrators probe it without credentials; it
///   reveals the role, version and whether storage works, nothing about jobs.
/// - `GET /ojs/manifest`: OJS discovery; SDKs read it before they authenticate. It lists
///   capabilities and the version only.
/// - The operator console's files: `GET /ojs/admin/`, `/ojs/admin/assets/*`, and the
///   redirects `/ojs/admin` and `/ojs/dashboard` (the old dashboard's address). They are the
///   page shell only (HTML, CSS and script, no data): every number on them comes from API
///   calls that need the key, and the page asks for one after a 401.
///
/// `HEAD` is treated as `GET`.
///
///     AccessPolicy.requirement(method: .get, path: "/ojs/v1/health")                 // .none
///     AccessPolicy.requirement(method: .post, path: "/ojs/v1/jobs")                  // .apiKey
///     AccessPolicy.requirement(method: .get, path: "/ojs/v1/replication/stream")     // .replicationKey
///     AccessPolicy.requirement(method: .get, path: "/ojs/v1/replication/status")     // .replicationOrAPIKey
public enum AccessPolicy {
    public enum Requirement: Sendable, Equatable {
        /// Open even when keys are configured (the allowlist).
        case none
        /// One of `OJS_API_KEY`'s keys.
        case apiKey
        /// `OJS_REPLICATION_KEY`: the snapshot, the stream, position reports, the digest.
        case replicationKey
        /// Either: replication status is read by replicas and by operators' tools.
        case replicationOrAPIKey
    }

    static let openPaths: Set<String> = [
        "/ojs/v1/health", "/ojs/manifest", ConsolePaths.root, ConsolePaths.bare, ConsolePaths.dashboard,
    ]
    static let replicationPrefix = "/ojs/v1/replication/"
    static let replicationStatus = "/ojs/v1/replication/status"

    public static func requirement(method: HTTPRequest.Method, path: String) -> Requirement {
        let reading = method == .get || method == .head
        if reading && (openPaths.contains(path) || ConsolePaths.isAsset(path)) { return .none }
        if path == replicationStatus { return .replicationOrAPIKey }
        if path.hasPrefix(replicationPrefix) { return .replicationKey }
        return .apiKey
    }
}
