import OJSCore

extension Store {
    public func job(id: String) async throws -> JobSnapshot? {
        try await read { db in try db.job(id) }
    }
}
