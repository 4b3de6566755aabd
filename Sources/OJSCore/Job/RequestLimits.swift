/// Bounds on what one request may ask of the server, checked while a body is validated so an
/// oversized job never reaches the writer. The HTTP-level bounds (body and header bytes,
/// timeouts, connections) live in the server's configuration; these are the ones that need
/// the parsed body.
public struct RequestLimits: Sendable, Equatable {
    /// Jobs in one `POST /jobs/batch`.
    public var maxBatchSize = 10_000
    /// Serialized size of one job's `args`.
    public var maxArgsBytes = 512 * 1024
    /// Serialized size of one job's `meta` (after `options.metadata` is merged in).
    public var maxMetaBytes = 64 * 1024
    /// Distinct queues named in one fetch.
    public var maxQueuesPerFetch = 64
    /// Jobs claimed by one fetch.
    public var maxFetchCount = 1000

    public init() {}

    /// For requests re-read from the database (workflow steps, cron templates): they were
    /// judged against the limits in force when they were accepted, and must not fail later
    /// because an operator lowered a limit since.
    public static let unbounded: RequestLimits = {
        var l = RequestLimits()
        l.maxBatchSize = .max
        l.maxArgsBytes = .max
        l.maxMetaBytes = .max
        l.maxQueuesPerFetch = .max
        l.maxFetchCount = .max
        return l
    }()

    /// 413 for a field past its bound: the body as a whole fit, this part of it did not.
    func checkSize(of value: JSONValue, field: String, limit: Int) throws(OJSError) {
        guard limit < .max else { return }
        let bytes = value.jsonText.utf8.count
        guard bytes <= limit else {
            var details = JSONObject()
            details["field"] = .string(field)
            details["bytes"] = .int(Int64(bytes))
            details["limit"] = .int(Int64(limit))
            throw OJSError(
                .payloadTooLarge,
                "Field '\(field)' is \(bytes) bytes; this server accepts at most \(limit).",
                details: details
            )
        }
    }

    /// The batch size check shared by every route that takes a list of jobs.
    public func checkBatch(count: Int) throws(OJSError) {
        guard count <= maxBatchSize else {
            throw OJSError.invalid("A batch holds at most \(maxBatchSize) jobs; got \(count).", field: "jobs")
        }
    }
}
