import Hummingbird
import OJSCore
import OJSStore

/// Bulk replay and delete of dead letters selected by a filter (`DeadLetterFilter`), under
/// both prefixes the single-job routes use: `/ojs/v1/dead-letter` and the admin extension's
/// `/ojs/v1/admin/dead-letter`.
extension OJSAPI {
    func addDeadLetterBulkRoutes(_ router: Router<Context>) {
        for prefix in ["/ojs/v1/dead-letter", "/ojs/v1/admin/dead-letter"] {
            router.post("\(prefix)/retry") { request, _ in
                let filter = try await Self.deadLetterFilter(request, limit: config.maxBodyBytes)
                let r = try await store.replayDeadLetters(filter)
                return JSONResponse.value(
                    .ok,
                    ["replayed": .int(Int64(r.jobIds.count)), "job_ids": .array(r.jobIds.map { .string($0) }), "remaining": .int(r.remaining)]
                )
            }
            router.post("\(prefix)/delete") { request, _ in
                let filter = try await Self.deadLetterFilter(request, limit: config.maxBodyBytes)
                guard filter.confirmed else {
                    throw OJSError.invalid("Deleting dead letters cannot be undone; send \"confirm\": true with the filter.", field: "confirm")
                }
                let r = try await store.deleteDeadLetters(filter)
                return JSONResponse.value(
                    .ok,
                    ["deleted": .int(Int64(r.jobIds.count)), "job_ids": .array(r.jobIds.map { .string($0) }), "remaining": .int(r.remaining)]
                )
            }
        }
    }

    /// The filter from the body; no body at all means "everything".
    static func deadLetterFilter(_ request: Request, limit: Int) async throws -> DeadLetterFilter {
        try DeadLetterFilter.parse(try await JSONBody.read(request, limit: limit, emptyIsObject: true))
    }
}
