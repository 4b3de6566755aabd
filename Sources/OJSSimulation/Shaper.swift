/// Decides when each chunk read on one direction of a link reaches the other side: the
/// bandwidth cap serialises chunks, then latency, jitter and an occasional spike delay them.
/// Pure (time and randomness are inputs), so the rules are unit-tested without sockets.
public struct Shaper: Sendable {
    public let link: Topology.Link
    private var rng: SplitMix
    /// When the capped link finishes sending what it has already accepted (nanoseconds).
    private var linkFreeAt: Int64 = 0
    /// The last delivery handed out; later chunks never overtake it, as on one TCP stream.
    private var lastDelivery: Int64 = 0

    public init(link: Topology.Link, seed: UInt64) {
        self.link = link
        self.rng = SplitMix(seed)
    }

    /// Delivery time (nanoseconds, same clock as `now`) of a chunk of `bytes` read at `now`.
    /// Strictly increasing, so tasks scheduled at these times run in arrival order.
    public mutating func delivery(bytes: Int, now: Int64) -> Int64 {
        var sent = now
        if let kbps = link.bandwidthKbps, kbps > 0 {
            let start = max(now, linkFreeAt)
            linkFreeAt = start + Int64(Double(bytes) * 8 / (kbps * 1000) * 1e9)
            sent = linkFreeAt
        }
        var delayMs = link.latencyMs
        if let jitter = link.jitterMs, jitter > 0 { delayMs += rng.unit() * jitter }
        if let p = link.spikeProbability, p > 0, rng.unit() < p { delayMs += link.spikeMs ?? 0 }
        let at = max(sent + Int64(delayMs * 1e6), lastDelivery + 1)
        lastDelivery = at
        return at
    }
}

/// A small deterministic generator, so a seed replays the same jitter and workload choices.
public struct SplitMix: Sendable {
    private var state: UInt64
    public init(_ seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
