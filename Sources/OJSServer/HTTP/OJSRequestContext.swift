import Hummingbird
import Logging

/// The per-request context: Hummingbird's core storage plus the OJS request id, which is
/// echoed in `X-Request-Id` and in every error body.
public struct OJSRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestId: String = ""

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// Bodies are read by `JSONBody` with our own limit; this only bounds Hummingbird's helpers.
    public var maxUploadSize: Int { 64 << 20 }
}
