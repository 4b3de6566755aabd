import Foundation

/// Something readers must pass through: on a replica, the lock that keeps them out while a
/// batch of transactions is being written, so no read sees half of one.
public protocol ReadGate: Sendable {
    func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T
}

/// Read-only connections, each on its own thread, so reads never wait for the writer (WAL
/// gives every read transaction its own snapshot) and never block the async executors.
public final class ReadPool: Sendable {
    final class Item: @unchecked Sendable {
        let run: (Connection) -> Void
        init(run: @escaping (Connection) -> Void) { self.run = run }
    }

    private let queue = WorkQueue<Item>()
    private let done: DispatchSemaphore
    private let size: Int

    private let gate: (any ReadGate)?

    public init(path: String, size: Int, gate: (any ReadGate)? = nil) throws {
        self.size = size
        self.gate = gate
        self.done = DispatchSemaphore(value: 0)
        for i in 0..<size {
            let handoff = ThreadHandoff(value: try Connection(path: path, options: .init(readOnly: true)))
            let thread = Thread { [queue, done] in
                // The connection is released when `serve` returns, before the signal.
                Self.serve(queue, handoff.take())
                done.signal()
            }
            thread.name = "ojs-reader-\(i)"
            thread.start()
        }
    }

    /// Runs `body` inside one read transaction, so every query in it sees the same snapshot.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let item = Item { [gate] db in
                do {
                    let value = try Self.gated(gate) {
                        try db.execute("BEGIN")
                        defer { try? db.execute("COMMIT") }
                        return try body(db)
                    }
                    continuation.resume(returning: value)
                } catch let error as SQLiteError {
                    continuation.resume(throwing: StoreError.storage(error))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            if !queue.push(item) { continuation.resume(throwing: StoreError.shuttingDown) }
        }
    }

    private static func serve(_ queue: WorkQueue<Item>, _ db: Connection) {
        while let items = queue.takeBatch(max: 1) {
            for item in items { item.run(db) }
        }
    }

    private static func gated<T>(_ gate: (any ReadGate)?, _ body: () throws -> T) throws -> T {
        guard let gate else { return try body() }
        return try gate.withReadLock { () throws(any Error) -> T in try body() }
    }

    public func shutdown() {
        queue.close()
        for _ in 0..<size { done.wait() }
    }
}
