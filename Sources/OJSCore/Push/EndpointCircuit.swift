/// The health of a push endpoint as one state machine: the circuit breaker
/// (`active` → `open` after repeated failures → `half_open` after a cool-down → `active` on a
/// success) and the administrative stop (`disabled`, after a 401/403/404, until re-bound).
/// Pure: the store keeps the fields, the dispatcher applies delivery outcomes.
public struct EndpointCircuit: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// The circuit is closed: deliveries flow within the endpoint's limits.
        case active
        /// Too many consecutive failures: nothing is delivered until the cool-down ends.
        case open
        /// The cool-down ended: one probe delivery at a time decides.
        case halfOpen = "half_open"
        /// The function refused us (401/403/404): nothing is delivered until re-enabled.
        case disabled
    }

    /// What a delivery outcome means for the endpoint's health.
    public enum Effect: Sendable, Equatable {
        /// The function works (it answered with a receipt, even a failed one).
        case success
        /// The function is unhealthy (5xx, timeout, unreachable, unreadable receipt).
        case failure
        /// Says nothing about health (429, a non-retryable 4xx about the job itself).
        case neutral
        /// Stop delivering until an operator re-enables the endpoint.
        case disable(reason: String)
    }

    /// Whether a delivery may start now.
    public enum Admission: Sendable, Equatable {
        /// Closed circuit: as many as the other limits allow.
        case open
        /// Half-open: one probe at a time.
        case probe
        /// Open: not before `until` (Unix ms).
        case wait(until: Int64)
        /// Disabled: not until re-enabled.
        case stopped
    }

    public private(set) var state: State
    public private(set) var reason: String?
    public private(set) var consecutiveFailures: Int
    /// When the circuit last opened (Unix ms); the cool-down counts from here.
    public private(set) var openedAt: Int64?
    public private(set) var changedAt: Int64
    public let failureThreshold: Int
    public let cooldownMs: Int64

    public init(
        state: State = .active,
        reason: String? = nil,
        consecutiveFailures: Int = 0,
        openedAt: Int64? = nil,
        changedAt: Int64,
        failureThreshold: Int = 5,
        cooldownMs: Int64 = 60_000
    ) {
        self.state = state
        self.reason = reason
        self.consecutiveFailures = consecutiveFailures
        self.openedAt = openedAt
        self.changedAt = changedAt
        self.failureThreshold = max(1, failureThreshold)
        self.cooldownMs = max(0, cooldownMs)
    }

    /// Decides whether deliveries may start at `now`; an open circuit whose cool-down has
    /// passed becomes half-open here, so the transition happens when it matters.
    public mutating func admit(now: Int64) -> Admission {
        switch state {
        case .active: return .open
        case .halfOpen: return .probe
        case .disabled: return .stopped
        case .open:
            let until = (openedAt ?? changedAt) + cooldownMs
            guard now >= until else { return .wait(until: until) }
            move(to: .halfOpen, reason: "cool-down of \(cooldownMs) ms ended; probing with one delivery", at: now)
            return .probe
        }
    }

    /// Applies a delivery outcome.
    public mutating func record(_ effect: Effect, now: Int64) {
        guard state != .disabled else { return }
        switch effect {
        case .neutral:
            return
        case .disable(let why):
            move(to: .disabled, reason: why, at: now)
        case .success:
            consecutiveFailures = 0
            // A straggler's success while open does not cut the cool-down short: only the
            // half-open probe (or a closed circuit) decides that the function is healthy.
            if state == .halfOpen { move(to: .active, reason: nil, at: now) }
        case .failure:
            consecutiveFailures += 1
            if state == .halfOpen || (state == .active && consecutiveFailures >= failureThreshold) {
                openedAt = now
                move(
                    to: .open,
                    reason: state == .halfOpen
                        ? "the half-open probe failed" : "\(consecutiveFailures) consecutive failed deliveries",
                    at: now
                )
            }
        }
    }

    /// Back to `active` with a clean slate (an operator re-bound or re-enabled the endpoint).
    public mutating func reset(now: Int64) {
        consecutiveFailures = 0
        openedAt = nil
        move(to: .active, reason: nil, at: now)
    }

    private mutating func move(to next: State, reason: String?, at now: Int64) {
        state = next
        self.reason = reason
        changedAt = now
    }
}
