import OJSCore

/// A step in a job's life, handed to the writer's lifecycle observer after the transaction
/// that made it commits (never for a rolled-back request). Tracing turns these into spans;
/// with no observer set nothing is collected.
public struct JobLifecycleEvent: Sendable {
    /// The event log's type (`job.completed`, `job.failed`, …), or `job.reclaimed` for a
    /// reservation that lapsed, which the event log does not record.
    public var type: String
    /// The job after the change (before it, for `job.reclaimed`).
    public var job: JobSnapshot
    /// Unix milliseconds: the transaction's clock reading.
    public var at: Int64
    public var data: JSONObject
}

/// Receives each committed batch's lifecycle events, on the writer thread: it must only
/// hand them off.
public typealias JobLifecycleObserver = @Sendable ([JobLifecycleEvent]) -> Void

extension WriteContext {
    func reportLifecycle(_ type: String, job: JobSnapshot, data: @autoclosure () -> [(String, JSONValue)]) {
        guard observesLifecycle else { return }
        lifecycleEvents.append(JobLifecycleEvent(type: type, job: job, at: now, data: JSONObject(data())))
    }
}
