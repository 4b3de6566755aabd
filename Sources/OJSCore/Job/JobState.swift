/// The eight OJS job states. `completed`, `cancelled` and `discarded` are terminal (a
/// discarded job can leave only through a dead-letter retry).
public enum JobState: String, Sendable, CaseIterable, Equatable {
    case scheduled, available, pending, active, completed, retryable, cancelled, discarded

    public var isTerminal: Bool {
        switch self {
        case .completed, .cancelled, .discarded: return true
        default: return false
        }
    }

    /// States a job can be cancelled from.
    public var isCancellable: Bool { !isTerminal }

    /// States that count toward a queue's depth (work not yet finished).
    public static let nonTerminal: [JobState] = [.scheduled, .available, .pending, .retryable, .active]

    /// Whether the lifecycle allows moving from `self` to `next`.
    public func canTransition(to next: JobState) -> Bool {
        switch (self, next) {
        case (.scheduled, .available), (.pending, .available), (.retryable, .available): return true
        case (.available, .active): return true
        case (.active, .completed), (.active, .retryable), (.active, .discarded), (.active, .available): return true
        case (.scheduled, .cancelled), (.available, .cancelled), (.pending, .cancelled), (.retryable, .cancelled),
            (.active, .cancelled):
            return true
        case (.available, .discarded), (.scheduled, .discarded), (.pending, .discarded): return true
        case (.discarded, .available): return true
        default: return false
        }
    }
}
