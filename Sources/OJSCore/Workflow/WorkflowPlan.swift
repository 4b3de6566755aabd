/// Decides what a workflow does next from the states of its steps. Pure: the store feeds it
/// the step states it read inside the writer's transaction and acts on the answer.
public struct WorkflowPlan: Sendable {
    /// For each step, the indices of the steps it waits for.
    public let dependencies: [[Int]]

    public init(dependencies: [[Int]]) { self.dependencies = dependencies }

    /// Where one step stands.
    public enum StepStatus: Sendable, Equatable {
        /// No job yet.
        case waiting
        /// A job exists and has not finished.
        case running
        case succeeded
        /// Discarded or cancelled.
        case failed
    }

    public struct Decision: Sendable, Equatable {
        /// Steps whose dependencies all succeeded and that have no job yet.
        public var ready: [Int]
        /// Steps that can never run because a dependency failed.
        public var unreachable: [Int]
        /// Nothing is running and nothing can start.
        public var finished: Bool
        public var failed: Bool
    }

    public func decide(_ status: [StepStatus]) -> Decision {
        var ready: [Int] = []
        var blocked = Set<Int>()
        // A dependency failing, or being unreachable itself, makes a step unreachable.
        for i in topologicalOrder() where status[i] == .waiting {
            let deps = dependencies[i]
            if deps.contains(where: { status[$0] == .failed || blocked.contains($0) }) {
                blocked.insert(i)
            } else if deps.allSatisfy({ status[$0] == .succeeded }) {
                ready.append(i)
            }
        }
        let anyRunning = status.contains(.running)
        let finished = !anyRunning && ready.isEmpty
        let failed = status.contains(.failed) || !blocked.isEmpty
        return Decision(ready: ready.sorted(), unreachable: blocked.sorted(), finished: finished, failed: failed)
    }

    /// Every step a step transitively depends on, in step order (whose results become its
    /// `parent_results`).
    public func ancestors(of step: Int) -> [Int] {
        var seen = Set<Int>()
        var stack = dependencies[step]
        while let d = stack.popLast() {
            if seen.insert(d).inserted { stack += dependencies[d] }
        }
        return seen.sorted()
    }

    /// Steps with no dependencies: the first to enqueue.
    public var roots: [Int] { dependencies.indices.filter { dependencies[$0].isEmpty } }

    public var hasCycle: Bool { topologicalOrder().count != dependencies.count }

    /// Kahn's algorithm; a cycle leaves steps out.
    func topologicalOrder() -> [Int] {
        var indegree = dependencies.map(\.count)
        var dependents = [[Int]](repeating: [], count: dependencies.count)
        for (i, deps) in dependencies.enumerated() { for d in deps { dependents[d].append(i) } }
        var queue = indegree.indices.filter { indegree[$0] == 0 }
        var order: [Int] = []
        while !queue.isEmpty {
            let n = queue.removeFirst()
            order.append(n)
            for m in dependents[n] {
                indegree[m] -= 1
                if indegree[m] == 0 { queue.append(m) }
            }
        }
        return order
    }
}
