import Hummingbird
import Synchronization

/// The HTTP responder of a failover node: it hands each request to the router of the node's
/// current role (primary, replica, or between roles), and the node runtime swaps that router
/// when the role changes. A request keeps the router it started with, so in-flight requests
/// finish against the role's store (or get its `shuttingDown` answer) while new ones already
/// see the next role.
///
///     let responder = SwitchableResponder(initial: transition.buildResponder())
///     let app = Application(responder: responder, …)
///     responder.switchTo(primaryRouter.buildResponder())
public final class SwitchableResponder: HTTPResponder, Sendable {
    public typealias Context = OJSRequestContext

    private let current: Mutex<RouterResponder<OJSRequestContext>>

    public init(initial: RouterResponder<OJSRequestContext>) {
        current = Mutex(initial)
    }

    public func switchTo(_ responder: RouterResponder<OJSRequestContext>) {
        current.withLock { $0 = responder }
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let responder = current.withLock { $0 }
        return try await responder.respond(to: request, context: context)
    }
}
