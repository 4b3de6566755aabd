/// An error as OJS puts it on the wire: `{"error":{"code","message","retryable",…}}`. Every
/// failure a client can cause is one of these. It carries typed facts only; `OJSServer`
/// alone turns them into a status and response fields (`OJSServer/HTTP/ErrorMapping.swift`).
public struct OJSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Code
    public var message: String
    public var details: JSONObject
    /// How long the client should wait before trying again, when the cause knows it.
    public var retryAfterSeconds: Int?
    /// The bound a refused write ran into (a full queue's depth and limit).
    public var pressure: QueuePressure?

    public init(
        _ code: Code,
        _ message: String,
        details: JSONObject = JSONObject(),
        retryAfterSeconds: Int? = nil,
        pressure: QueuePressure? = nil
    ) {
        self.code = code
        self.message = message
        self.details = details
        self.retryAfterSeconds = retryAfterSeconds
        self.pressure = pressure
    }

    public var retryable: Bool { code.retryable }
    public var description: String { "\(code.rawValue): \(message)" }

    public static func == (lhs: OJSError, rhs: OJSError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.details == rhs.details
    }

    /// The OJS error codes this server emits, with their retryability. Their HTTP statuses are
    /// decided in `OJSServer` (`ErrorMapping`).
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
        /// An idempotency key reused with a different request.
        case idempotencyKeyMismatch = "idempotency_key_mismatch"
        /// A forwarded request was sent but its answer never came back: it may or may not have
        /// run. Replaying it with the same request id is safe (`docs/consistency.md`).
        case outcomeUnknown = "x_outcome_unknown"
        /// Failover: this node is not (or no longer) the cluster's primary and cannot commit
        /// the write; the cluster's new primary can (`docs/failover.md`).
        case notPrimary = "not_primary"
        /// Synchronous replication: the write committed on the primary, but the required
        /// replicas did not confirm it in time, so it may not survive a failover. Replaying it
        /// with the same idempotency key is safe and waits for them again.
        case syncTimeout = "x_sync_timeout"

        public var retryable: Bool {
            switch self {
            case .queuePaused, .rateLimited, .queueFull, .backendError, .unavailable, .requestTimeout, .storageFull,
                .storageUnavailable, .outcomeUnknown, .syncTimeout, .notPrimary:
                return true
            default: return false
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
            .notFound,
            "\(resource.prefix(1).uppercased() + resource.dropFirst()) '\(id)' not found.",
            details: JSONObject([("resource_type", .string(resource)), ("resource_id", .string(id))])
        )
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
