/// W3C trace context (`traceparent`, `tracestate`) carried in a job's `meta`: stored at
/// enqueue and returned on fetch, so the worker that runs the job continues the producer's
/// trace. A context the client already put in `meta` always wins; a `tracestate` is only
/// ever stored with the `traceparent` it belongs to.
public enum TraceContextMeta {
    public static let traceparent = "traceparent"
    public static let tracestate = "tracestate"

    /// Puts `context` into `meta` unless `meta` already has a `traceparent`.
    public static func adopt(_ context: [String: String], into meta: inout JSONObject) {
        guard meta[traceparent] == nil, let parent = context[traceparent] else { return }
        meta[traceparent] = .string(parent)
        meta[tracestate] = context[tracestate].map { .string($0) }
    }

    /// The same for a job request not parsed yet (a workflow step, a batch callback).
    public static func adopt(_ context: [String: String], intoRequest request: inout JSONValue) {
        guard var object = request.objectValue, context[traceparent] != nil else { return }
        let existing = object["meta"]
        if let existing, existing.objectValue == nil { return }  // an invalid meta is the parser's to report
        var meta = existing?.objectValue ?? JSONObject()
        adopt(context, into: &meta)
        object["meta"] = .object(meta)
        request = .object(object)
    }

    /// The context in a job's stored `meta` (empty when it has none).
    public static func read(_ meta: JSONObject?) -> [String: String] {
        var context: [String: String] = [:]
        if let parent = meta?[traceparent]?.stringValue {
            context[traceparent] = parent
            if let state = meta?[tracestate]?.stringValue { context[tracestate] = state }
        }
        return context
    }
}

extension WorkflowDefinition {
    /// Gives every step and callback job the trace context of the request that created the
    /// workflow, so its steps are spans of that trace whenever they start.
    public mutating func adoptTraceContext(_ context: [String: String]) {
        guard !context.isEmpty else { return }
        for i in steps.indices { TraceContextMeta.adopt(context, intoRequest: &steps[i].request) }
        for i in callbacks.indices { TraceContextMeta.adopt(context, intoRequest: &callbacks[i].request) }
    }
}
