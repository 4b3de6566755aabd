/// Order statistics of a sample, by the nearest-rank method (every reported value was
/// actually observed, which matters for lag: an interpolated p99 between 0 and a 10 s
/// partition would describe no moment that happened).
public struct Percentiles: Codable, Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
}

extension Percentiles {
    public init(_ values: [Double]) {
        let sorted = values.sorted()
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((q * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        self.init(count: sorted.count, p50: rank(0.50), p95: rank(0.95), p99: rank(0.99), max: sorted.last ?? 0)
    }
}
