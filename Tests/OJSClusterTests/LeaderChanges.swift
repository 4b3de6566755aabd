import OJSCluster

/// Reads a `leaderChanges()` stream one element at a time with a bound on each wait.
actor LeaderChanges {
    private var iterator: AsyncStream<LeaderRecord?>.Iterator

    init(_ stream: AsyncStream<LeaderRecord?>) { iterator = stream.makeAsyncIterator() }

    /// The next change; fails after `seconds` (the TTL and then some, for the tests' 2 s leases).
    func next(within seconds: Double = 8) async throws -> LeaderRecord?? {
        try await OJSClusterTests.within(seconds, "a leader change") { [self] in await self.take() }
    }

    private func take() async -> LeaderRecord?? {
        // AsyncStream's iterator is a handle: a copy reads the same stream.
        var copy = iterator
        let value = await copy.next(isolation: self)
        iterator = copy
        return value
    }
}
