import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OJSCore
import OJSStore
import Synchronization

/// Wraps every route (and the not-found responder): assigns the request id, turns every
/// thrown error into an OJS error body, adds `OJS-Version`, `X-Request-Id` and the content
/// type, and logs one JSON line per request.
struct OJSMiddleware: RouterMiddleware {
    typealias Context = OJSRequestContext
    let logger: Logger
    /// Headers every response carries on this node (the primary's bookmark and name).
    let consistency: @Sendable () -> [(HTTPField.Name, String)]
    let metrics: OJSMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        var context = context
        let requestId = Self.requestId(from: request)
        context.requestId = requestId
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as OJSError {
            response = JSONResponse.error(error, requestId: requestId)
        } catch let error as HTTPError {
            response = JSONResponse.error(Self.translate(error, request), requestId: requestId)
        } catch let error as StoreError {
            logger.error("storage failure", metadata: ["request_id": .string(requestId), "error": .string("\(error)")])
            response = JSONResponse.error(Self.translate(error), requestId: requestId)
        } catch {
            logger.error("unexpected error", metadata: ["request_id": .string(requestId), "error": .string("\(error)")])
            response = JSONResponse.error(OJSError(.backendError, "Internal error."), requestId: requestId)
        }
        for (name, value) in consistency() where response.headers[name] == nil { response.headers[name] = value }
        response.headers[.ojsVersion] = "1.0"
        response.headers[.requestId] = requestId
        if response.headers[.contentType] == nil { response.headers[.contentType] = MediaTypes.ojs }
        let micros = (DispatchTime.now().uptimeNanoseconds - started) / 1000
        metrics.httpRequest(
            method: request.method.rawValue,
            route: context.endpointPath ?? "unmatched",
            status: response.status.code,
            duration: .microseconds(Int64(micros))
        )
        if logger.logLevel <= .info {
            logger.info(
                "request",
                metadata: [
                    "request_id": .string(requestId), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                    "route": .string(context.endpointPath ?? "unmatched"), "status": .stringConvertible(response.status.code),
                    "duration_us": .stringConvertible(micros),
                ]
            )
        }
        return response
    }

    /// The client's `X-Request-Id` if it is sane, else `req_<uuidv7>`.
    static func requestId(from request: Request) -> String {
        if let sent = request.headers[.requestId], !sent.isEmpty, sent.utf8.count <= 200,
            sent.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return sent
        }
        return "req_" + requestIdRandom.withLock { UUIDv7.make(millis: Store.systemClock(), using: &$0) }
    }

    /// Random bits for request ids, read from the kernel 4 KiB at a time: a `getrandom` call per
    /// id was 2 % of a static route's CPU (perf).
    private static let requestIdRandom = Mutex(BufferedSystemRandom())

    static func translate(_ error: HTTPError, _ request: Request) -> OJSError {
        switch error.status {
        case .notFound:
            return OJSError(
                .notFound,
                "No route for \(request.method.rawValue) \(request.uri.path).",
                details: ["resource_type": "route", "resource_id": .string(request.uri.path)]
            )
        case .contentTooLarge:
            return OJSError(.payloadTooLarge, "Request body is too large.")
        case .methodNotAllowed:
            return OJSError(.methodNotAllowed, "Method \(request.method.rawValue) is not allowed on \(request.uri.path).")
        default:
            return OJSError(.invalidRequest, error.body ?? "Bad request.")
        }
    }

    static func translate(_ error: StoreError) -> OJSError {
        switch error {
        case .shuttingDown:
            return OJSError(.unavailable, "The server is shutting down.")
        case .readOnly:
            return OJSError(.unavailable, "This node is a read replica and cannot apply writes.")
        case .notPrimary:
            return OJSError(
                .notPrimary,
                "This node is not the cluster's primary (its leader lease ended); nothing from this request was committed.",
                retryAfterSeconds: 1
            )
        case .storage(let underlying):
            if let sqlite = underlying as? SQLiteError, sqlite.isStorageFailure {
                if sqlite.isFull {
                    return OJSError(.storageFull, "The database cannot grow (\(sqlite.message)); nothing from this request was stored.")
                }
                return OJSError(.storageUnavailable, "Storage cannot be written (\(sqlite.message)); nothing from this request was stored.")
            }
            return OJSError(.backendError, "Storage error.")
        }
    }
}
