/// An error as OJS puts it on the wire: `{"error":{"code","message","retryable",…}}` with an
/// HTTP status. Every failure a client can cause is one of these; the HTTP layer only renders.
public struct OJSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Code
    public var message: String
    public var details: JSONObject
    /// Extra response headers (`Retry-After`, backpressure bounds).
    public var headers: [(name: String, value: String)]

    public init(_ code: Code, _ message: String, details: JSONObject = JSONObject(), headers: [(String, String)] = []) {
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers.map { (name: $0.0, value: $0.1) }
    }

    public var status: Int { code.status }
    public var retryable: Bool { code.retryable }
    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (lhs: OJSError, rhs: OJSError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.details == rhs.details
    }

    /// The OJS error codes this server emits, with their HTTP status and retryability.
    public enum Code: String, Sendable, Equatable {
        case invalidPayload = "invalid_payload"
        case invalidRequest = "invalid_request"
        case validationError = "validation_error"
        case notFound = "not_found"
        case conflict = "conflict"
        case duplicate = "duplicate"
        case queuePaused = "queue_paused"
        case rateLimited = "rate_limited"
        case queueFull = "QUEUE_FULL"
        case unsupported = "unsupported"
        case unauthorized = "unauthorized"
        case payloadTooLarge = "payload_too_large"
        case requestTimeout = "request_timeout"
        case headersTooLarge = "request_header_fields_too_large"
        /// The database cannot grow: the disk is full or the configured size bound is reached.
        case storageFull = "storage_full"
        /// The data directory cannot be written (read-only filesystem, permissions, I/O error).
        case storageUnavailable = "storage_unavailable"
        case methodNotAllowed = "method_not_allowed"
        case unavailable = "unavailable"
        case backendError = "backend_error"
        /// Replication: the position asked for is no longer retained; fetch a snapshot.
        case snapshotRequired = "x_snapshot_required"
        /// Replication: the replica follows another history (generation) than the primary.
        case generationMismatch = "x_generation_mismatch"
        /// An `Idempotency-Key` reused with a different request.
        case idempotencyKeyMismatch = "idempotency_key_mismatch"

        public var status: Int {
            switch self {
            case .invalidPayload, .invalidRequest: return 400
            case .unauthorized: return 401
            case .notFound: return 404
            case .methodNotAllowed: return 405
            case .conflict, .duplicate, .generationMismatch: return 409
            case .snapshotRequired: return 410
            case .requestTimeout: return 408
            case .payloadTooLarge: return 413
            case .headersTooLarge: return 431
            case .storageFull: return 507
            case .validationError, .queuePaused, .unsupported, .idempotencyKeyMismatch: return 422
            case .rateLimited, .queueFull: return 429
            case .backendError: return 500
            case .unavailable, .storageUnavailable: return 503
            }
        }

        public var retryable: Bool {
            switch self {
            case .queuePaused, .rateLimited, .queueFull, .backendError, .unavailable, .requestTimeout, .storageFull,
                .storageUnavailable:
                return true
            default: return false
            }
        }

        public var hint: String {
            switch self {
            case .invalidPayload: return "Send a JSON object body with Content-Type application/openjobspec+json."
            case .invalidRequest: return "Check the request fields against the OJS specification."
            case .validationError: return "Check the retry policy and duration fields."
            case .notFound: return "Check the ID or path; the resource may have been deleted or never existed."
            case .conflict: return "The resource is not in a state that allows this operation; GET it to see its state."
            case .duplicate: return "A job with this id or unique key already exists."
            case .queuePaused: return "Resume the queue first."
            case .rateLimited: return "Retry after the time given in Retry-After."
            case .queueFull: return "The queue is at its depth bound; retry after Retry-After seconds."
            case .unsupported: return "This server does not support the requested feature or version."
            case .unauthorized: return "Send Authorization: Bearer <api key>."
            case .payloadTooLarge: return "Reduce the request size below the configured limit."
            case .requestTimeout: return "Send the whole request within the server's request timeout."
            case .headersTooLarge: return "Send fewer or smaller header fields."
            case .storageFull: return "The server's storage is full; retry after the operator frees space."
            case .storageUnavailable: return "The server cannot write to its storage; retry after the operator fixes it."
            case .methodNotAllowed: return "Check the HTTP method for this path."
            case .unavailable: return "The server cannot serve this request right now; retry shortly."
            case .backendError: return "An unexpected server error occurred; retry with backoff."
            case .snapshotRequired: return "Bootstrap from GET /ojs/v1/replication/snapshot, then stream from its txid."
            case .generationMismatch: return "The primary's history changed; bootstrap again from a snapshot."
            case .idempotencyKeyMismatch: return "Send a new Idempotency-Key for a different request; a key may only repeat the identical request."
            }
        }
    }

    /// The same error, attributed to element `index` of a job list (a batch's `jobs`, a
    /// workflow's `steps`).
    public func atIndex(_ index: Int, field: String = "jobs") -> OJSError {
        var copy = self
        copy.details["index"] = .int(Int64(index))
        copy.message = "\(field)[\(index)]: " + message
        return copy
    }

    // MARK: common constructors

    public static func notFound(_ resource: String, _ id: String) -> OJSError {
        OJSError(
            .notFound, "\(resource.prefix(1).uppercased() + resource.dropFirst()) '\(id)' not found.",
            details: JSONObject([("resource_type", .string(resource)), ("resource_id", .string(id))]))
    }

    public static func invalid(_ message: String, field: String? = nil) -> OJSError {
        var details = JSONObject()
        if let field { details["field"] = .string(field) }
        return OJSError(.invalidRequest, message, details: details)
    }

    public static func conflict(_ message: String, currentState: String? = nil) -> OJSError {
        var details = JSONObject()
        if let currentState { details["current_state"] = .string(currentState) }
        return OJSError(.conflict, message, details: details)
    }
}
