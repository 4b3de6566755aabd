import OJSCore

/// A job ready for the writer: its stored document (`jobs.doc`) serialised before the write,
/// on the request's task. On the writer thread that serialisation was a tenth of a 1,000-job
/// batch push's time (perf, `docs/benchmarks.md`), and the writer thread is what a batch push
/// waits for; the requests' tasks run on the other cores.
///
/// ```swift
/// let job = PreparedJob(spec)
/// try await write(bytes: job.writeBytes) { ctx in try Store.insert(job, ctx: ctx) }
/// ```
struct PreparedJob: Sendable {
    let spec: JobSpec
    let document: String

    init(_ spec: JobSpec) {
        self.spec = spec
        self.document = JSONValue.object(spec.document()).jsonText
    }

    /// Roughly what inserting it writes: the document, plus the row's other columns, its index
    /// entries and its `job.enqueued` event (about 512 bytes). A group commit gathers at most
    /// `Writer.defaultMaxBatchBytes` of these.
    var writeBytes: Int { document.utf8.count + 512 }

    static func writeBytes(_ jobs: [PreparedJob]) -> Int { jobs.reduce(0) { $0 + $1.writeBytes } }
}
