import HTTPTypes
import Hummingbird
import NIOCore
import OJSCore
import OJSStore

/// The HTTP side of `Idempotency-Key` (`docs/idempotency.md`) on pushes and on a worker's
/// fetch, ack and nack: reading the claim, and turning a recorded answer into a response.
/// The store decides, in the writer, whether a request runs or replays.
enum IdempotentRequest {
    /// The request's claim, or nil when it carries no `Idempotency-Key`.
    static func claim(_ request: Request, body: ByteBuffer, windowMs: Int64) throws -> IdempotencyClaim? {
        guard let key = request.headers[.idempotencyKey] else { return nil }
        guard IdempotencyClaim.isValid(key: key) else {
            throw OJSError(
                .invalidRequest,
                "Idempotency-Key must be 1 to \(IdempotencyClaim.maxKeyLength) visible ASCII characters.",
                details: ["header": "Idempotency-Key"]
            )
        }
        return try IdempotencyClaim(
            key: key,
            method: request.method.rawValue,
            path: request.uri.path,
            body: Array(buffer: body),
            windowMs: windowMs
        )
    }

    /// A recorded answer as a response; a replay says so in `Idempotent-Replayed`.
    static func response(_ recorded: RecordedResponse, replayed: Bool, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        if let location = recorded.location { fields[.location] = location }
        if replayed { fields[.idempotentReplayed] = "true" }
        return JSONResponse.make(HTTPResponse.Status(code: recorded.status), bytes: Array(recorded.body.utf8), headers: fields)
    }

    /// Runs a request: once per key when there is one, plainly otherwise. `respond` renders the
    /// answer (inside the writer's transaction when it is recorded).
    static func run<T: Sendable>(
        _ claim: IdempotencyClaim?,
        respond: @escaping @Sendable (T) -> RecordedResponse,
        plain: () async throws -> T,
        once: (IdempotencyClaim) async throws -> IdempotentOutcome<T>
    ) async throws -> IdempotentOutcome<T> {
        guard let claim else {
            let value = try await plain()
            return .performed(value, respond(value))
        }
        return try await once(claim)
    }
}

extension RecordedResponse {
    /// A 200 whose body object is written field by field.
    static func ok(_ build: (inout JSONWriter) -> Void) -> RecordedResponse {
        var w = JSONWriter()
        w.beginObject()
        build(&w)
        w.endObject()
        return RecordedResponse(status: 200, body: w.string)
    }
}
