/// Which events a live stream wants. The same rules hold in SQL (`Store.eventRecords`) and in
/// memory (`matches`), so an event reaches a subscriber the same way whether it was read from
/// the log or from the live feed's ring.
public struct EventFilter: Sendable, Equatable {
    /// Exact types, or prefixes written `job.*` (as `GET /ojs/v1/events` takes them); empty: all.
    public var types: [String]
    /// Only events of this queue.
    public var queue: String?
    /// Only events about this subject (a job's id).
    public var subject: String?

    public init(types: [String] = [], queue: String? = nil, subject: String? = nil) {
        self.types = types
        self.queue = queue
        self.subject = subject
    }

    public func matches(_ record: EventRecord) -> Bool {
        if let queue, record.queue != queue { return false }
        if let subject, record.subject != subject { return false }
        guard !types.isEmpty else { return true }
        return types.contains { type in
            type.hasSuffix(".*") ? record.type.hasPrefix(type.dropLast()) : record.type == type
        }
    }
}
