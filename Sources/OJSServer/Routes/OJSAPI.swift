import Hummingbird
import Logging
import OJSCore
import OJSStore

/// The OJS HTTP binding on a primary: every route, grouped by concern in extensions.
struct OJSAPI: Sendable {
    let store: Store
    let config: ServerConfiguration
    let health: HealthState

    typealias Context = OJSRequestContext

    func register(on router: Router<Context>) {
        addSystemRoutes(router)
        addJobRoutes(router)
        addWorkerRoutes(router)
        addDeadLetterRoutes(router)
        addQueueRoutes(router)
        addWorkflowRoutes(router)
        addCronRoutes(router)
        addAdminRoutes(router)
        addProgressRoutes(router)
    }

    /// A path parameter that the route pattern guarantees.
    static func parameter(_ context: Context, _ name: String) throws -> String {
        guard let value = context.parameters.get(name) else { throw OJSError.invalid("Missing path parameter '\(name)'.") }
        return value
    }
}
