/// What one push delivery came to, from the function's HTTP answer (or its absence). The
/// dispatcher settles the job from this; the rules are the OJS serverless binding's:
///
/// | answer | outcome | job | endpoint |
/// |---|---|---|---|
/// | 2xx `{"status":"completed","result":…}` (or an empty 2xx) | `completed` | ACK | success |
/// | 2xx `{"status":"failed","error":…}` | `failed` | NACK, retry policy | success |
/// | 202 Accepted | `accepted` | stays active for a late receipt | success |
/// | 401, 403, 404 | `disabled` | released (attempt not counted) | disabled |
/// | 429 | `throttled` | released (attempt not counted) | backs off per `Retry-After` |
/// | other 4xx | `rejected` | non-retryable failure | neutral |
/// | 5xx, other status, unreadable receipt, timeout, unreachable | `error` | retryable failure | failure |
public enum DeliveryOutcome: Sendable, Equatable {
    case completed(result: JSONValue?)
    case failed(JobFailure)
    case accepted
    case disabled(reason: String)
    case throttled(retryAfterMs: Int64?)
    case rejected(JobFailure)
    case error(JobFailure)

    /// Classifies an HTTP answer. `retryAfter` is the raw header; `now` resolves HTTP dates.
    public static func classify(status: Int, body: [UInt8], retryAfter: String?, now: Int64) -> DeliveryOutcome {
        switch status {
        case 202:
            return .accepted
        case 200..<300:
            return receipt(status: status, body: body)
        case 401, 403, 404:
            return .disabled(reason: "the function answered HTTP \(status) (\(statusWord(status)))")
        case 429:
            return .throttled(retryAfterMs: retryAfter.flatMap { RetryAfter.parse($0, now: now) })
        case 400..<500:
            return .rejected(
                JobFailure(
                    code: "push_rejected", type: "push_rejected", message: "The function rejected the delivery with HTTP \(status)\(excerpt(body))",
                    retryable: false, details: ["http_status": .int(Int64(status))]))
        default:
            return .error(
                JobFailure(
                    code: "push_error", type: "push_error", message: "The function answered HTTP \(status)\(excerpt(body))", retryable: true,
                    details: ["http_status": .int(Int64(status))]))
        }
    }

    /// No answer within the delivery timeout.
    public static func timedOut(afterMs ms: Int64) -> DeliveryOutcome {
        .error(JobFailure(code: "timeout", type: "timeout", message: "The function did not answer within \(ms) ms", retryable: true))
    }

    /// No answer at all (connection refused, reset, DNS).
    public static func unreachable(_ why: String) -> DeliveryOutcome {
        .error(JobFailure(code: "push_unreachable", type: "push_unreachable", message: "The function could not be reached: \(why)", retryable: true))
    }

    /// A 2xx body: a receipt. An empty body counts as a completion without a result (some
    /// platforms answer 204); anything unreadable is a retryable error.
    static func receipt(status: Int, body: [UInt8]) -> DeliveryOutcome {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .completed(result: nil) }
        guard let value = try? JSONParser.parse(body), let object = value.objectValue else {
            return invalidReceipt("HTTP \(status) with a body that is not a JSON object")
        }
        do {
            return try Receipt.outcome(object)
        } catch {
            return invalidReceipt(error.message)
        }
    }

    public static func invalidReceipt(_ why: String) -> DeliveryOutcome {
        .error(JobFailure(code: "invalid_receipt", type: "invalid_receipt", message: "The function's receipt is invalid: \(why)", retryable: true))
    }

    /// What the endpoint's circuit makes of this outcome.
    public var effect: EndpointCircuit.Effect {
        switch self {
        case .completed, .failed, .accepted: return .success
        case .error: return .failure
        case .throttled, .rejected: return .neutral
        case .disabled(let reason): return .disable(reason: reason)
        }
    }

    /// The name used in the deliveries list, metrics and logs.
    public var label: String {
        switch self {
        case .completed: return "completed"
        case .failed: return "failed"
        case .accepted: return "accepted"
        case .disabled: return "disabled"
        case .throttled: return "throttled"
        case .rejected: return "rejected"
        case .error(let f): return f.code == "timeout" ? "timeout" : "error"
        }
    }

    /// How much of a function's failure body a job's error keeps. Enough to recognise an error
    /// page ("502 Bad Gateway", a framework's first line), too little to carry a document back:
    /// the answer to a delivery must not become a way to read what the function's host holds.
    public static let excerptBytes = 80

    static func excerpt(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        let printable = body.prefix(excerptBytes).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
        let text = String(decoding: printable, as: UTF8.self)
        return ": " + text + (body.count > excerptBytes ? "…" : "")
    }

    static func statusWord(_ status: Int) -> String {
        switch status {
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        default: return "Not Found"
        }
    }
}

/// A function's receipt: `{"status":"completed","result":…}` or `{"status":"failed","error":…}`,
/// in a 200 answer or, with a `delivery_id`, POSTed later to `/ojs/v1/jobs/{id}/receipt`.
public enum Receipt {
    /// The outcome a receipt object states; a client mistake is a `400 invalid_request`.
    public static func outcome(_ o: JSONObject) throws(OJSError) -> DeliveryOutcome {
        switch try o.string("status") {
        case "completed":
            return .completed(result: o["result"])
        case "failed":
            if let text = o["error"]?.stringValue {
                return .failed(.handlerError(text))
            }
            return .failed(try JobFailure.parse(try o.object("error") ?? JSONObject()))
        case let other:
            throw OJSError.invalid(
                "Field 'status' must be \"completed\" or \"failed\", got \(other.map { "\"\($0)\"" } ?? "nothing").", field: "status")
        }
    }

    /// A late receipt's body: the delivery it settles and what it says.
    public static func parseLate(_ body: JSONValue) throws(OJSError) -> (deliveryId: String, outcome: DeliveryOutcome) {
        guard let o = body.objectValue else { throw OJSError(.invalidRequest, "Receipt body must be a JSON object.") }
        guard let id = try o.string("delivery_id"), !id.isEmpty else {
            throw OJSError.invalid("Missing required field 'delivery_id'.", field: "delivery_id")
        }
        return (id, try outcome(o))
    }
}
