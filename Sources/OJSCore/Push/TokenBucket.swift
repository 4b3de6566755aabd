/// A token bucket: `ratePerSecond` tokens flow in continuously up to `burst`; each delivery
/// takes one. A burst of jobs can then start at most `burst` deliveries at once and
/// `ratePerSecond` per second after that, so a rate-limited downstream is never overrun.
/// Pure: the caller passes "now" (Unix milliseconds) and persists `tokens`/`updatedAt`.
public struct TokenBucket: Sendable, Equatable {
    public let ratePerSecond: Double
    public let burst: Double
    public private(set) var tokens: Double
    public private(set) var updatedAt: Int64

    /// A bucket; a new one (no saved level) starts full.
    public init(ratePerSecond: Double, burst: Int, tokens: Double? = nil, updatedAt: Int64) {
        self.ratePerSecond = max(ratePerSecond, 0)
        self.burst = Double(max(burst, 1))
        self.tokens = min(tokens ?? Double(max(burst, 1)), Double(max(burst, 1)))
        self.updatedAt = updatedAt
    }

    /// Adds what flowed in since `updatedAt`. A clock that went backwards adds nothing.
    public mutating func refill(now: Int64) {
        guard now > updatedAt else { return }
        tokens = min(burst, tokens + Double(now - updatedAt) * ratePerSecond / 1000)
        updatedAt = now
    }

    /// Whole tokens available at `now`.
    public func available(now: Int64) -> Int {
        var copy = self
        copy.refill(now: now)
        return Int(copy.tokens.rounded(.down))
    }

    /// Takes `count` tokens (at most what is available) and returns how many were taken.
    @discardableResult
    public mutating func take(_ count: Int, now: Int64) -> Int {
        refill(now: now)
        let taken = min(max(count, 0), Int(tokens.rounded(.down)))
        tokens -= Double(taken)
        return taken
    }

    /// Milliseconds from `now` until one whole token is available (0 if one is already).
    public func millisUntilNextToken(now: Int64) -> Int64 {
        var copy = self
        copy.refill(now: now)
        guard copy.tokens < 1 else { return 0 }
        guard ratePerSecond > 0 else { return Int64.max }
        return Int64(((1 - copy.tokens) * 1000 / ratePerSecond).rounded(.up))
    }
}
