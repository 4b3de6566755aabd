import Foundation
import Hummingbird
import OJSCore

/// API-key authentication: with keys configured, every `/ojs/v1` request needs
/// `Authorization: Bearer <key>` matching one of them (compared in constant time). Health and
/// the manifest stay open for load balancers and discovery; the replication endpoints check
/// their own key. On a replica this runs before forwarding, so a replica never serves or
/// relays more than the primary would allow.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = OJSRequestContext
    let keys: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty, Self.requiresKey(request.uri.path) else { return try await next(request, context) }
        let sent = request.bearerToken
        // Check every key, so the time taken does not reveal which one came close.
        var matched = false
        for key in keys where ConstantTime.equal(sent, key) { matched = true }
        guard matched else {
            throw OJSError(.unauthorized, sent.isEmpty ? "Authentication required: send Authorization: Bearer <api key>." : "Invalid API key.")
        }
        return try await next(request, context)
    }

    static func requiresKey(_ path: String) -> Bool {
        guard path.hasPrefix("/ojs/v1/") else { return false }
        return path != "/ojs/v1/health" && !path.hasPrefix("/ojs/v1/replication/")
    }
}

extension Request {
    /// The token of `Authorization: Bearer <token>`, or "" when there is none.
    var bearerToken: String {
        headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
    }
}
