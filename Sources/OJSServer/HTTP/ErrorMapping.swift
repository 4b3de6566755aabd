import Foundation
import HTTPTypes
import OJSCore
import OJSReplication

/// The one place an `OJSError` becomes HTTP: its status, the response fields its typed facts
/// turn into (`Retry-After`, the queue-bound fields), and the hint in its body. The core and
/// the store know nothing of HTTP (`docs/architecture.md`).
extension OJSError {
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: code.httpStatus) }

    /// The fields this error adds to its response.
    var responseFields: HTTPFields {
        var fields = HTTPFields()
        if let seconds = retryAfterSeconds { fields[.retryAfter] = String(seconds) }
        if let pressure { fields.append(contentsOf: pressure.boundFields) }
        return fields
    }
}

extension QueuePressure {
    /// `X-OJS-Queue-Depth` and `X-OJS-Queue-Bound`: on a refused push, and with
    /// `X-OJS-Queue-Pressure` on an accepted one past the warning threshold.
    var boundFields: HTTPFields {
        var fields = HTTPFields()
        fields[.queueDepth] = String(depth)
        fields[.queueBound] = String(bound)
        return fields
    }

    /// The warning an accepted push carries once the queue is past its threshold.
    var warningFields: HTTPFields {
        guard ratio >= threshold else { return [:] }
        var fields = boundFields
        fields[.queuePressure] = String(format: "%.2f", ratio)
        return fields
    }
}

extension OJSError.Code {
    var httpStatus: Int {
        switch self {
        case .invalidPayload, .invalidRequest: return 400
        case .unauthorized: return 401
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .conflict, .duplicate: return 409
        // The replication protocol's refusals: replicas act on these statuses alone.
        case .generationMismatch: return ReplicationProtocol.RefusalStatus.generationMismatch
        case .snapshotRequired: return ReplicationProtocol.RefusalStatus.snapshotRequired
        case .requestTimeout: return 408
        case .payloadTooLarge: return 413
        case .headersTooLarge: return 431
        case .storageFull: return 507
        case .validationError, .queuePaused, .unsupported, .idempotencyKeyMismatch: return 422
        case .rateLimited, .queueFull: return 429
        case .backendError: return 500
        case .unavailable, .storageUnavailable, .syncTimeout, .notPrimary: return 503
        case .outcomeUnknown: return 504
        }
    }

    var hint: String {
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
        case .outcomeUnknown:
            return "The request may or may not have run; send it again with the same X-Request-Id (or Idempotency-Key) to get its outcome."
        case .notPrimary: return "Retry shortly: the cluster is electing or has elected another primary, and any node forwards to it."
        case .syncTimeout:
            return "The write is committed on the primary; send it again with the same Idempotency-Key to wait for the replicas once more."
        case .idempotencyKeyMismatch: return "Send a new Idempotency-Key for a different request; a key may only repeat the identical request."
        }
    }
}
