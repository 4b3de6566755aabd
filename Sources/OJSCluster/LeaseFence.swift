import Synchronization

/// The fencing deadline of one member's lease, readable from any thread without awaiting the
/// member: the writer checks it before each commit and stops committing once it has passed.
///
/// The deadline is a monotonic-clock time in milliseconds (the member's `monotonicNow`): the send
/// time of the last acknowledged keep-alive (or of the grant) plus the lease TTL minus the safety
/// margin (`ClusterMemberConfig.fenceMarginMs`). etcd starts its own countdown only when the
/// request arrives, after it was sent, so this deadline passes before etcd can expire the lease
/// (up to clock-rate drift, which the margin covers), and so before anyone else can be elected.
///
/// `leaderEpoch(now:)` adds leadership: the epoch this member leads under, only while the lease
/// that holds the leader key is the current one and its deadline has not passed. Lease and
/// leadership live under one lock so a reader never pairs a new lease's deadline with a lost
/// lease's leadership.
public final class LeaseFence: Sendable {
    private struct State {
        var lease: Int64 = 0
        var deadline: Int64 = .min
        var epoch: Int64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether the current lease is still safely alive at `now` (monotonic ms).
    public func isValid(now: Int64) -> Bool { state.withLock { $0.lease != 0 && now < $0.deadline } }

    /// The deadline (monotonic ms) of the current lease; `Int64.min` when there is none.
    public var deadline: Int64 { state.withLock { $0.deadline } }

    /// The lease the deadline belongs to; 0 when there is none.
    public var lease: Int64 { state.withLock { $0.lease } }

    /// The epoch this member leads under, when it leads and its lease is valid at `now`.
    public func leaderEpoch(now: Int64) -> Int64? {
        state.withLock { $0.epoch != 0 && $0.lease != 0 && now < $0.deadline ? $0.epoch : nil }
    }

    /// A new lease, valid until `deadline`; any leadership of an earlier lease is dropped.
    func arm(lease: Int64, until deadline: Int64) {
        state.withLock { $0 = State(lease: lease, deadline: deadline, epoch: 0) }
    }

    /// Moves the deadline of `lease` to `deadline`, only if it is still the current lease and
    /// the move is forward (an acknowledgment never shortens what an earlier one granted).
    func extend(lease: Int64, until deadline: Int64) {
        state.withLock {
            if $0.lease == lease, deadline > $0.deadline { $0.deadline = deadline }
        }
    }

    /// No lease: nothing is valid until the next `arm`.
    func invalidate() { state.withLock { $0 = State() } }

    /// Leadership under `lease` with `epoch`; ignored when `lease` is no longer current.
    func lead(epoch: Int64, lease: Int64) {
        state.withLock {
            if $0.lease == lease { $0.epoch = epoch }
        }
    }

    /// Leadership ends (the lease stays).
    func abdicate() { state.withLock { $0.epoch = 0 } }
}
