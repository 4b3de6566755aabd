import OJSCore
import OJSStore
import ServiceLifecycle
import Tracing

/// The spans of a job's life, in the trace whose context the job carries in `meta`:
///
///     HTTP POST /ojs/v1/jobs                 (server; child of the producer's traceparent)
///     └─ ojs.job.enqueue                     (producer; its context is stored in meta)
///        ├─ ojs.job.fetch                    (consumer; linked to the worker's fetch request)
///        ├─ ojs.job.attempt                  (consumer; fetch → ack, nack or timeout)
///        ├─ ojs.job.retry / ojs.job.dead_letter
///        └─ <the worker's own spans>         (from meta.traceparent)
///
/// Workflow steps (`ojs.workflow.step`) hang off the context of the request that created
/// the workflow. Attempt, retry and dead-letter spans are built from the writer's lifecycle
/// events after commit, with their real start and end times, so they need no state between
/// requests and survive restarts. Exists only when tracing is on.
struct JobTracing: Sendable {
    /// Runs `body` in a producer span (`ojs.job.enqueue`, `ojs.workflow.create`); `body` gets
    /// the span's context to store in the jobs' meta.
    func produce<T: Sendable>(
        _ name: String,
        queue: String?,
        count: Int,
        _ body: ([String: String]) async throws -> T
    ) async throws -> T {
        try await withSpan(name, ofKind: .producer) { span in
            span.attributes["messaging.system"] = "ojs"
            span.attributes["messaging.operation.type"] = "send"
            span.attributes["messaging.destination.name"] = queue
            span.attributes["messaging.batch.message_count"] = count > 1 ? count : nil
            return try await body(TraceContext.fields(of: span.context))
        }
    }

    /// One `ojs.job.fetch` span per claimed job, in the job's trace, linked to the fetch
    /// request's span (which is in the worker's trace).
    func fetched(_ jobs: [JobSnapshot], workerId: String?) {
        let request = ServiceContext.current ?? .topLevel
        for job in jobs {
            let span = startSpan("ojs.job.fetch", context: TraceContext.parent(of: job), ofKind: .consumer)
            describe(span, job)
            span.attributes["messaging.operation.type"] = "receive"
            span.attributes["ojs.worker.id"] = workerId
            span.addLink(SpanLink(context: request, attributes: [:]))
            span.end()
        }
    }

    /// Whether `record` makes a span of this event: the observer drops the rest on the
    /// writer thread, so a plain push or fetch costs no hand-off.
    static func isTraced(_ event: JobLifecycleEvent) -> Bool {
        switch event.type {
        case "job.completed", "job.failed", "job.reclaimed", "job.retrying": return true
        case "job.discarded": return event.data["dead_letter"]?.boolValue == true
        case "job.enqueued": return event.job.workflowId != nil
        default: return false
        }
    }

    /// Spans for committed lifecycle events.
    func record(_ events: [JobLifecycleEvent]) {
        for event in events {
            switch event.type {
            case "job.completed":
                attempt(event, outcome: "completed")
            case "job.failed":
                let outcome: String
                switch event.job.state {
                case .retryable: outcome = "retry"
                case .discarded: outcome = "discarded"
                default: outcome = "requeued"
                }
                attempt(event, outcome: outcome, error: event.data["error"])
            case "job.reclaimed":
                attempt(event, outcome: "visibility_timeout", error: event.data["error"])
            case "job.retrying":
                instant("ojs.job.retry", event) { span in
                    span.attributes["ojs.retry.delay_ms"] = event.data["delay_ms"]?.intValue.map(Int.init)
                    span.attributes["ojs.retry.next_attempt_at"] = event.data["next_attempt_at"]?.stringValue
                }
            case "job.discarded" where event.data["dead_letter"]?.boolValue == true:
                instant("ojs.job.dead_letter", event) { span in span.setStatus(SpanStatus(code: .error, message: "dead-lettered")) }
            case "job.enqueued" where event.job.workflowId != nil:
                instant("ojs.workflow.step", event) { span in span.attributes["ojs.workflow.id"] = event.job.workflowId }
            default:
                break
            }
        }
    }

    /// A delivery attempt, from the claim to its end.
    private func attempt(_ event: JobLifecycleEvent, outcome: String, error: JSONValue? = nil) {
        let job = event.job
        let span = startSpan(
            "ojs.job.attempt",
            at: Self.instant(job.startedAt ?? event.at),
            context: TraceContext.parent(of: job),
            ofKind: .consumer
        )
        describe(span, job)
        span.attributes["messaging.operation.type"] = "process"
        span.attributes["ojs.worker.id"] = job.workerId
        span.attributes["ojs.job.outcome"] = outcome
        if let error {
            span.attributes["error.type"] = error["code"]?.stringValue ?? error["type"]?.stringValue
            span.setStatus(SpanStatus(code: .error, message: error["message"]?.stringValue))
        }
        span.end(at: Self.instant(event.at))
    }

    /// A point in the job's life, as a span of no duration.
    private func instant(_ name: String, _ event: JobLifecycleEvent, _ configure: (any Span) -> Void) {
        let span = startSpan(name, at: Self.instant(event.at), context: TraceContext.parent(of: event.job), ofKind: .internal)
        describe(span, event.job)
        configure(span)
        span.end(at: Self.instant(event.at))
    }

    private func describe(_ span: any Span, _ job: JobSnapshot) {
        span.updateAttributes { a in
            a["messaging.system"] = "ojs"
            a["messaging.destination.name"] = job.queue
            a["messaging.message.id"] = job.id
            a["ojs.job.type"] = job.type
            a["ojs.job.attempt"] = job.attempt
        }
    }

    static func instant(_ millis: Int64) -> DefaultTracerClock.Timestamp {
        DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: UInt64(max(0, millis)) * 1_000_000)
    }
}

/// Turns the writer's lifecycle events into spans off the writer thread. The buffer is
/// bounded: under a burst beyond it the oldest events' spans are dropped, never the writer
/// slowed.
struct JobSpanService: Service {
    let events: AsyncStream<[JobLifecycleEvent]>
    let tracing: JobTracing

    init(store: Store, tracing: JobTracing) {
        let (stream, continuation) = AsyncStream.makeStream(of: [JobLifecycleEvent].self, bufferingPolicy: .bufferingNewest(4096))
        store.writer?.setLifecycleObserver { batch in
            let traced = batch.filter(JobTracing.isTraced)
            if !traced.isEmpty { continuation.yield(traced) }
        }
        self.events = stream
        self.tracing = tracing
    }

    func run() async throws {
        for await batch in events.cancelOnGracefulShutdown() { tracing.record(batch) }
    }
}
