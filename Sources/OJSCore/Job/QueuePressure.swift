/// How full a bounded queue is: after an accepted enqueue (a warning once past the
/// threshold), or in the error of one it refused. The server renders it; the store measures it.
public struct QueuePressure: Sendable, Equatable {
    public var depth: Int64
    public var bound: Int64
    /// The ratio past which an accepted enqueue carries the warning.
    public var threshold: Double
    public var ratio: Double { bound > 0 ? Double(depth) / Double(bound) : 0 }

    public init(depth: Int64, bound: Int64, threshold: Double) {
        self.depth = depth
        self.bound = bound
        self.threshold = threshold
    }
}
