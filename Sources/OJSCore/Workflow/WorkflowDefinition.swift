/// A validated `POST /ojs/v1/workflows` body. Chains, groups, batches and the Python SDK's
/// step graph all become one shape: steps with dependencies. A chain is a line (each step
/// depends on the one before), a group or batch has no edges, a graph says its own.
public struct WorkflowDefinition: Sendable {
    public enum Kind: String, Sendable, Equatable { case chain, group, batch, dag }

    public struct Step: Sendable {
        /// The client's step id (graph form) or the index as text.
        public var key: String
        public var dependsOn: [Int]
        /// The job request as sent, re-validated when the step is enqueued (relative times
        /// resolve then, not at creation).
        public var request: JSONValue
        public var type: String
    }

    public var kind: Kind
    public var name: String?
    public var steps: [Step]
    /// Batch callbacks by name (`on_success`, `on_failure`, `on_complete`).
    public var callbacks: [(name: String, request: JSONValue)]

    public static let callbackNames = ["on_success", "on_failure", "on_complete"]

    public static func parse(_ body: JSONValue, now: Int64, limits: RequestLimits = RequestLimits()) throws(OJSError) -> WorkflowDefinition {
        guard let o = body.objectValue else { throw OJSError(.invalidRequest, "A workflow must be a JSON object.") }
        var name: String?
        if let n = o["name"], !n.isNull {
            guard let s = n.stringValue else { throw OJSError.invalid("Field 'name' must be a string.", field: "name") }
            name = s
        }
        let kind: Kind
        if let t = o["type"], !t.isNull {
            guard let s = t.stringValue, let k = Kind(rawValue: s) else {
                throw OJSError.invalid("Field 'type' must be chain, group or batch.", field: "type")
            }
            kind = k
        } else if o["steps"] != nil {
            kind = .dag  // the SDK graph form: {name, steps:[{id, type, args, depends_on}]}
        } else {
            throw OJSError.invalid("Missing required field 'type' (chain, group or batch).", field: "type")
        }
        let listField = (kind == .chain || kind == .dag) ? "steps" : "jobs"
        guard let list = (o[listField] ?? (kind == .dag ? nil : o["steps"]))?.arrayValue else {
            throw OJSError.invalid("Field '\(listField)' must be an array of jobs.", field: listField)
        }
        guard !list.isEmpty else { throw OJSError.invalid("A \(kind.rawValue) workflow needs at least one job.", field: listField) }
        guard list.count <= 10_000 else { throw OJSError.invalid("A workflow holds at most 10000 jobs.", field: listField) }

        var steps: [Step] = []
        var keys: [String: Int] = [:]
        for (i, item) in list.enumerated() {
            let request = kind == .dag ? stripGraphFields(item) : item
            let spec: JobSpec
            do { spec = try JobSpec.parse(request, now: now, limits: limits) } catch { throw error.atIndex(i, field: listField) }
            var key = String(i)
            if kind == .dag {
                guard let id = item["id"]?.stringValue, !id.isEmpty else {
                    throw OJSError.invalid("\(listField)[\(i)]: each step needs a string 'id'.", field: "\(listField)[\(i)].id")
                }
                guard keys[id] == nil else {
                    throw OJSError.invalid("\(listField)[\(i)]: duplicate step id '\(id)'.", field: "\(listField)[\(i)].id")
                }
                key = id
            }
            keys[key] = i
            steps.append(Step(key: key, dependsOn: kind == .chain && i > 0 ? [i - 1] : [], request: request, type: spec.type))
        }
        if kind == .dag {
            for (i, item) in list.enumerated() {
                guard let deps = item["depends_on"], !deps.isNull else { continue }
                guard let array = deps.arrayValue else {
                    throw OJSError.invalid("steps[\(i)].depends_on must be an array of step ids.", field: "steps[\(i)].depends_on")
                }
                for d in array {
                    guard let id = d.stringValue, let j = keys[id] else {
                        throw OJSError.invalid("steps[\(i)].depends_on names an unknown step: \(d.jsonText).", field: "steps[\(i)].depends_on")
                    }
                    if !steps[i].dependsOn.contains(j) { steps[i].dependsOn.append(j) }
                }
            }
            if WorkflowPlan(dependencies: steps.map(\.dependsOn)).hasCycle {
                throw OJSError.invalid("The step graph has a cycle.", field: "steps")
            }
        }
        var callbacks: [(name: String, request: JSONValue)] = []
        if let c = o["callbacks"], !c.isNull {
            guard kind == .batch else { throw OJSError.invalid("Only batch workflows take callbacks.", field: "callbacks") }
            guard let co = c.objectValue else { throw OJSError.invalid("Field 'callbacks' must be an object.", field: "callbacks") }
            for (cbName, request) in co {
                guard callbackNames.contains(cbName) else {
                    throw OJSError.invalid("Unknown callback '\(cbName)'; use on_success, on_failure or on_complete.", field: "callbacks")
                }
                guard !request.isNull else { continue }
                do { _ = try JobSpec.parse(request, now: now, limits: limits) } catch {
                    throw OJSError(error.code, "callbacks.\(cbName): " + error.message, details: ["field": .string("callbacks.\(cbName)")])
                }
                callbacks.append((cbName, request))
            }
        }
        if kind == .batch, callbacks.isEmpty {
            throw OJSError.invalid("A batch workflow needs at least one callback (on_success, on_failure or on_complete).", field: "callbacks")
        }
        return WorkflowDefinition(kind: kind, name: name, steps: steps, callbacks: callbacks)
    }

    /// The graph form carries `id` and `depends_on` beside the job; they are not job fields.
    static func stripGraphFields(_ item: JSONValue) -> JSONValue {
        guard var o = item.objectValue else { return item }
        o["depends_on"] = nil
        if let id = o["id"]?.stringValue, !UUIDv7.isValid(id) { o["id"] = nil }
        return .object(o)
    }

    /// The stored form of the steps: `[{"key","depends_on":[indices],"job":{…}}]`.
    public var stepsJSON: JSONValue {
        .array(
            steps.map { s in
                ["key": .string(s.key), "depends_on": .array(s.dependsOn.map { .int(Int64($0)) }), "type": .string(s.type), "job": s.request]
            }
        )
    }

    public var callbacksJSON: JSONValue? {
        guard !callbacks.isEmpty else { return nil }
        return .object(JSONObject(callbacks.map { ($0.name, $0.request) }))
    }
}
