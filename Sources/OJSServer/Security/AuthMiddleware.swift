import Hummingbird
import OJSCore

/// Key authentication, deny by default (`AccessPolicy`): once API keys are configured, every
/// route outside the allowlist needs one; once any key is configured, the replication routes
/// need a replication key (an API key never opens them, and with none configured nothing
/// does). Keys are sent as `Authorization: Bearer <key>` and compared in constant time. With
/// no key at all (a loopback development server; `serve` refuses to listen elsewhere without
/// keys) every request passes.
///
/// It runs after `CanonicalPathMiddleware`, so the path it judges is the path the router
/// routes, and on a replica before forwarding, so a replica never serves or relays more than
/// the primary would allow.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = OJSRequestContext
    let apiKeys: [String]
    let replicationKeys: [String]

    init(apiKeys: [String], replicationKeys: [String]) {
        self.apiKeys = apiKeys
        self.replicationKeys = replicationKeys
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !apiKeys.isEmpty || !replicationKeys.isEmpty else { return try await next(request, context) }
        let sent = request.bearerToken
        switch AccessPolicy.requirement(method: request.method, path: request.uri.path) {
        case .none:
            break
        case .apiKey:
            // With no API key configured the API is as open as with no key at all (only on
            // loopback, or with OJS_ALLOW_INSECURE_NO_AUTH): a replication key closes
            // replication, not the job API.
            guard apiKeys.isEmpty || matchesAPIKey(sent) else { throw refusal(sent, need: "an API key") }
        case .replicationKey:
            guard matchesReplicationKey(sent) else { throw refusal(sent, need: "the replication key (OJS_REPLICATION_KEY)") }
        case .replicationOrAPIKey:
            // Both checks run, so the time taken does not say which kind of key came close.
            let replication = matchesReplicationKey(sent)
            let api = matchesAPIKey(sent)
            guard replication || api else { throw refusal(sent, need: "the replication key or an API key") }
        }
        return try await next(request, context)
    }

    func matchesAPIKey(_ sent: String) -> Bool { Self.matches(sent, apiKeys) }

    /// With no replication key configured (but API keys set) the replication endpoints are
    /// closed: no key can open them.
    func matchesReplicationKey(_ sent: String) -> Bool { Self.matches(sent, replicationKeys) }

    /// Checks every key, so the time taken does not reveal which one came close.
    static func matches(_ sent: String, _ keys: [String]) -> Bool {
        var matched = false
        for key in keys where ConstantTime.equal(sent, key) { matched = true }
        return matched
    }

    func refusal(_ sent: String, need: String) -> OJSError {
        OJSError(
            .unauthorized,
            sent.isEmpty ? "Authentication required: send Authorization: Bearer <\(need)>." : "Invalid key: this path needs \(need)."
        )
    }
}

extension Request {
    /// The token of `Authorization: Bearer <token>`, or "" when there is none.
    var bearerToken: String {
        headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
    }
}
