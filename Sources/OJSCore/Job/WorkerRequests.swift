/// Validated bodies of the worker protocol: fetch, ack, nack, heartbeat.
public struct FetchRequest: Sendable, Equatable {
    public var queues: [String]
    public var count: Int
    public var workerId: String?
    public var visibilityTimeoutMs: Int64?

    public init(queues: [String], count: Int = 1, workerId: String? = nil, visibilityTimeoutMs: Int64? = nil) {
        self.queues = queues
        self.count = count
        self.workerId = workerId
        self.visibilityTimeoutMs = visibilityTimeoutMs
    }

    public static func parse(_ body: JSONValue, limits: RequestLimits = RequestLimits()) throws(OJSError) -> FetchRequest {
        guard let o = body.objectValue else { throw OJSError(.invalidRequest, "Fetch body must be a JSON object.") }
        guard let q = o["queues"], let list = q.arrayValue, !list.isEmpty else {
            throw OJSError.invalid("Field 'queues' must be a non-empty array of queue names.", field: "queues")
        }
        var queues: [String] = []
        for item in list {
            guard let name = item.stringValue, Names.isValidQueue(name) else {
                throw OJSError.invalid("Field 'queues' contains an invalid queue name: \(item.jsonText).", field: "queues")
            }
            if !queues.contains(name) { queues.append(name) }
        }
        guard queues.count <= limits.maxQueuesPerFetch else {
            throw OJSError.invalid(
                "A fetch names at most \(limits.maxQueuesPerFetch) queues; got \(queues.count).",
                field: "queues"
            )
        }
        var count = 1
        if let c = o["count"], !c.isNull {
            guard let n = c.intValue, n >= 1, n <= Int64(limits.maxFetchCount) else {
                throw OJSError.invalid("Field 'count' must be an integer between 1 and \(limits.maxFetchCount).", field: "count")
            }
            count = Int(n)
        }
        let workerId = try optionalString(o, "worker_id")
        var vt: Int64?
        if let v = o["visibility_timeout_ms"], !v.isNull {
            guard let n = v.intValue, n > 0 else {
                throw OJSError.invalid("Field 'visibility_timeout_ms' must be a positive integer.", field: "visibility_timeout_ms")
            }
            vt = n
        }
        return FetchRequest(queues: queues, count: count, workerId: workerId, visibilityTimeoutMs: vt)
    }
}

public struct AckRequest: Sendable, Equatable {
    public var jobId: String
    public var workerId: String?
    public var result: JSONValue?

    public init(jobId: String, workerId: String? = nil, result: JSONValue? = nil) {
        self.jobId = jobId
        self.workerId = workerId
        self.result = result
    }

    public static func parse(_ body: JSONValue) throws(OJSError) -> AckRequest {
        guard let o = body.objectValue else { throw OJSError(.invalidRequest, "Ack body must be a JSON object.") }
        return AckRequest(jobId: try requiredJobId(o), workerId: try optionalString(o, "worker_id"), result: o["result"])
    }
}

public struct NackRequest: Sendable, Equatable {
    public var jobId: String
    public var workerId: String?
    public var requeue: Bool
    public var failure: JobFailure

    public init(jobId: String, workerId: String? = nil, requeue: Bool = false, failure: JobFailure) {
        self.jobId = jobId
        self.workerId = workerId
        self.requeue = requeue
        self.failure = failure
    }

    public static func parse(_ body: JSONValue) throws(OJSError) -> NackRequest {
        guard let o = body.objectValue else { throw OJSError(.invalidRequest, "Nack body must be a JSON object.") }
        let jobId = try requiredJobId(o)
        let requeue = try o.bool("requeue") ?? false
        var failure = JobFailure.handlerError()
        if let eo = try o.object("error") {
            failure = try JobFailure.parse(eo)
        } else if let m = o["message"]?.stringValue {
            failure.message = m
        }
        return NackRequest(jobId: jobId, workerId: try optionalString(o, "worker_id"), requeue: requeue, failure: failure)
    }
}

extension JobFailure {
    /// What a worker's or a function's failure is when it says no more than `message`.
    public static func handlerError(_ message: String = "Job failed") -> JobFailure {
        JobFailure(code: "handler_error", message: message)
    }

    /// A failure as a NACK or a push receipt sends it (`error` object); missing fields get
    /// the `handler_error` defaults.
    public static func parse(_ eo: JSONObject, path: String = "error") throws(OJSError) -> JobFailure {
        var failure = JobFailure.handlerError()
        failure.code = try eo.string("code", path: path + ".code") ?? failure.code
        failure.type = try eo.string("type", path: path + ".type")
        failure.message = try eo.string("message", path: path + ".message") ?? failure.message
        failure.retryable = try eo.bool("retryable", path: path + ".retryable")
        failure.details = try eo.object("details", path: path + ".details")
        if let bt = eo["backtrace"] ?? eo["stack"], !bt.isNull { failure.backtrace = bt }
        return failure
    }
}

/// `POST /workers/heartbeat` and `/workers/beat`. `active_jobs` arrives as an id array (the
/// suite, Python SDK) or a count beside `active_job_ids` (the JS SDK, worker-protocol prose).
public struct HeartbeatRequest: Sendable, Equatable {
    public var workerId: String
    public var jobIds: [String]
    public var activeJobCount: Int?
    public var visibilityTimeoutMs: Int64?
    public var reportedState: String?

    public init(
        workerId: String,
        jobIds: [String] = [],
        activeJobCount: Int? = nil,
        visibilityTimeoutMs: Int64? = nil,
        reportedState: String? = nil
    ) {
        self.workerId = workerId
        self.jobIds = jobIds
        self.activeJobCount = activeJobCount
        self.visibilityTimeoutMs = visibilityTimeoutMs
        self.reportedState = reportedState
    }

    public static func parse(_ body: JSONValue) throws(OJSError) -> HeartbeatRequest {
        guard let o = body.objectValue else { throw OJSError(.invalidRequest, "Heartbeat body must be a JSON object.") }
        guard let workerId = try optionalString(o, "worker_id"), !workerId.isEmpty else {
            throw OJSError.invalid("Missing required field 'worker_id'.", field: "worker_id")
        }
        var ids: [String] = []
        var count: Int?
        func addIds(_ v: JSONValue?, _ field: String) throws(OJSError) {
            guard let v, !v.isNull else { return }
            guard let list = v.arrayValue else { throw OJSError.invalid("Field '\(field)' must be an array of job ids.", field: field) }
            for item in list {
                guard let s = item.stringValue else { throw OJSError.invalid("Field '\(field)' must be an array of job ids.", field: field) }
                if !ids.contains(s) { ids.append(s) }
            }
        }
        if let a = o["active_jobs"], !a.isNull {
            if let n = a.intValue, case .int = a {
                guard n >= 0 else { throw OJSError.invalid("Field 'active_jobs' must not be negative.", field: "active_jobs") }
                count = Int(n)
            } else {
                try addIds(a, "active_jobs")
            }
        }
        try addIds(o["active_job_ids"], "active_job_ids")
        if let j = o["job_id"]?.stringValue, !ids.contains(j) { ids.append(j) }
        var vt: Int64?
        if let v = o["visibility_timeout_ms"], !v.isNull {
            guard let n = v.intValue, n > 0 else {
                throw OJSError.invalid("Field 'visibility_timeout_ms' must be a positive integer.", field: "visibility_timeout_ms")
            }
            vt = n
        }
        var state = try optionalString(o, "state")
        if o["shutdown"]?.boolValue == true { state = "drain" }
        return HeartbeatRequest(workerId: workerId, jobIds: ids, activeJobCount: count ?? ids.count, visibilityTimeoutMs: vt, reportedState: state)
    }
}

func requiredJobId(_ o: JSONObject) throws(OJSError) -> String {
    guard let v = o["job_id"] ?? o["id"], !v.isNull else { throw OJSError.invalid("Missing required field 'job_id'.", field: "job_id") }
    guard let s = v.stringValue, !s.isEmpty else { throw OJSError.invalid("Field 'job_id' must be a string.", field: "job_id") }
    return s
}

func optionalString(_ o: JSONObject, _ field: String) throws(OJSError) -> String? { try o.string(field) }
