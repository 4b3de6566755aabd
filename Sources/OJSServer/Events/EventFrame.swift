import OJSCore
import OJSStore

/// One event as a Server-Sent Events frame: `id`, `event` and a single `data` line of JSON.
///
///     id: evt_42
///     event: job.completed
///     data: {"id":"evt_42","type":"job.completed","time":"…","job_id":"…","queue":"default",…,"from":"active","to":"completed"}
///
/// The data carries the event's identity and time, the job, queue and type it concerns, the
/// fields stored with the event, and for job events `to` (the job's state after it, stored as
/// `state`) and `from` where the event type fixes it. Our JSON writer escapes control
/// characters, so the JSON never spans lines.
enum EventFrame {
    static func render(_ record: EventRecord) -> String {
        let isJob = record.type.hasPrefix("job.")
        let stored: JSONObject
        if case .object(let object)? = try? JSONParser.parse(record.data) { stored = object } else { stored = JSONObject() }
        var w = JSONWriter()
        w.beginObject()
        w.field("id", record.id)
        w.field("type", record.type)
        w.field("time", Timestamp.format(millis: record.time))
        if isJob, let subject = record.subject { w.field("job_id", subject) }
        if let queue = record.queue { w.field("queue", queue) }
        if let jobType = record.jobType { w.field("job_type", jobType) }
        let written: Set<String> = ["id", "type", "time", "job_id", "queue", "job_type", "from", "to"]
        for (key, value) in stored.entries where !written.contains(key) { w.field(key, value) }
        if isJob {
            if let from = stored["from"]?.stringValue ?? previousState(record.type) { w.field("from", from) }
            if let to = stored["to"]?.stringValue ?? stored["state"]?.stringValue { w.field("to", to) }
        }
        w.endObject()
        return "id: \(record.id)\nevent: \(record.type)\ndata: \(w.string)\n\n"
    }

    /// The state a job event always starts from: a claim takes an available job, and a job
    /// completes or fails only while active. Other events (cancelled, expired, retried) leave
    /// from several states, which the log does not record, so they carry no `from`.
    static func previousState(_ type: String) -> String? {
        switch type {
        case "job.started": return JobState.available.rawValue
        case "job.completed", "job.failed", "job.retrying", "job.discarded": return JobState.active.rawValue
        default: return nil
        }
    }
}
