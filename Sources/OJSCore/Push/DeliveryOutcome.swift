/// What one push delivery came to, from the function's answer (or its absence). The
/// dispatcher settles the job from this. How an HTTP answer maps to an outcome (the OJS
/// serverless binding's rules) is decided in `OJSServer` (`DeliveryOutcome+HTTP.swift`).
public enum DeliveryOutcome: Sendable, Equatable {
    case completed(result: JSONValue?)
    case failed(JobFailure)
    case accepted
    case disabled(reason: String)
    /// The function asked for a pause; nil when it did not say how long.
    case throttled(retryAfterMs: Int64?)
    case rejected(JobFailure)
    case error(JobFailure)

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
    public static func receipt(status: Int, body: [UInt8]) -> DeliveryOutcome {
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
                "Field 'status' must be \"completed\" or \"failed\", got \(other.map { "\"\($0)\"" } ?? "nothing").",
                field: "status"
            )
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
