import OJSCore

extension Store {
    /// `POST /ojs/v1/admin/jobs/{id}/retry`: runs a discarded or cancelled job again, as the
    /// dead-letter retry does (`available` now, attempt 0, same id, error history kept).
    /// A job in any other state is refused with `409 conflict`: a live job is already going to
    /// run, and a completed one has a result that a rerun would overwrite.
    public func retryJob(id: String) async throws -> JobSnapshot {
        try await write { ctx in
            guard let job = try ctx.db.job(id) else { throw OJSError.notFound("job", id) }
            guard job.state == .discarded || job.state == .cancelled else {
                throw OJSError.conflict(
                    "Only a discarded or cancelled job can be retried; this one is \(job.state.rawValue).",
                    currentState: job.state.rawValue
                )
            }
            return try Self.requeueEnded(job, ctx: ctx)
        }
    }
}
