import AsyncHTTPClient
import Logging
import OJSCore
import OJSStore
import ServiceLifecycle
import Synchronization

/// Delivers the jobs of bound queues to their functions (primary only). Each pass asks the
/// store to claim what every endpoint's limits allow, then sends each delivery on its own
/// task and settles the job from the answer. A pass runs whenever the writer commits a
/// change (a new job, a retry becoming due, a finished delivery) and otherwise when the next
/// time-based limit lifts, or after `pollMs` at the latest.
///
/// At graceful shutdown no new delivery starts; those in flight finish (each bounded by its
/// endpoint's timeout) and are settled before the service returns, so the store is still open.
public final class PushDispatcher: Service, Sendable {
    let store: Store
    let logger: Logger
    let metrics: OJSMetrics?
    let pollMs: Int
    let version: String
    /// Checks each delivery's address again (DNS may have changed since binding).
    let targets: PushTargetGuard
    /// Raised after every commit that changed something; a pass waits for it to move.
    let commits = PositionBroadcaster()
    private let inFlight = Mutex<[Int: Task<Void, Never>]>([:])
    private let nextTaskId = Atomic<Int>(0)

    /// Deliveries claimed per endpoint per pass: bounds one transaction, not the throughput.
    static let maxBatch = 32

    public init(
        store: Store,
        logger: Logger,
        metrics: OJSMetrics?,
        pollMs: Int = 1000,
        version: String = "0.1.0",
        targets: PushTargetPolicy = PushTargetPolicy()
    ) {
        self.store = store
        self.targets = PushTargetGuard(policy: targets)
        self.logger = logger
        self.metrics = metrics
        self.pollMs = max(10, pollMs)
        self.version = version
        let commits = self.commits
        store.writer?.addObserver { _, _, position in
            if let position { commits.publish(position.txid) }
        }
    }

    static func workerId(_ queue: String) -> String { "push/" + queue }

    static func makeClient() -> HTTPClient {
        HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
    }

    public func run() async throws {
        let client = Self.makeClient()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let seen = self.commits.value
                let bindings = self.store.pushBindings.value
                let pass = await self.pass(client)
                if pass.endpoints == 0 {
                    // Nothing is bound: sleep until a binding changes rather than look for
                    // endpoints after every commit of an ordinary workload.
                    _ = await self.store.pushBindings.wait(atLeast: bindings + 1, timeout: .milliseconds(Int64(self.pollMs)))
                } else {
                    _ = await self.commits.wait(atLeast: seen + 1, timeout: .milliseconds(pass.waitMs))
                }
            }
        }
        await finishInFlight()
        try? await client.shutdown()
    }

    /// Serverless mode: one pass from `POST /ojs/v1/admin/tick`, returning once the
    /// deliveries it started are answered and settled, so the platform's invocation covers
    /// them (each is bounded by its endpoint's timeout). Returns how many it started.
    public func passAndWait() async -> Int {
        let client = Self.makeClient()
        let started = await pass(client).started
        await finishInFlight()
        try? await client.shutdown()
        return started
    }

    private func finishInFlight() async {
        for task in inFlight.withLock({ Array($0.values) }) { await task.value }
    }

    /// Claims and starts deliveries for every endpoint with waiting jobs; returns how many
    /// endpoints are bound, how many deliveries it started and how long to wait for a commit
    /// before the next pass.
    func pass(_ client: HTTPClient) async -> (endpoints: Int, started: Int, waitMs: Int64) {
        var waitMs = Int64(pollMs)
        var started = 0
        var endpoints = 0
        do {
            if store.clock() / 60_000 != lastPurgeMinute.exchange(store.clock() / 60_000, ordering: .relaxed) {
                try await store.purgePushDeliveries()
            }
            let bound = try await store.pushEndpoints(countingUpTo: 1)
            endpoints = bound.count
            for endpoint in bound where endpoint.available > 0 && endpoint.circuit.state != .disabled {
                let queue = endpoint.config.queue
                let claim = try await store.claimPushDeliveries(queue: queue, workerId: Self.workerId(queue), maxBatch: Self.maxBatch)
                if let change = claim.stateChange { logStateChange(queue: queue, change, reason: claim.endpoint?.circuit.reason) }
                if let retry = claim.retryInMs { waitMs = min(waitMs, retry) }
                guard let config = claim.endpoint?.config else { continue }
                for delivery in claim.deliveries { start(delivery, endpoint: config, client: client) }
                started += claim.deliveries.count
            }
        } catch {
            logger.error("push dispatch pass failed", metadata: ["error": .string("\(error)")])
        }
        return (endpoints, started, max(1, waitMs))
    }

    private let lastPurgeMinute = Atomic<Int64>(0)

    private func start(_ delivery: PushDelivery, endpoint: PushEndpointConfig, client: HTTPClient) {
        let id = nextTaskId.add(1, ordering: .relaxed).newValue
        // Registered before it can finish, so `run` never misses one at shutdown.
        inFlight.withLock { tasks in
            tasks[id] = Task {
                await self.deliver(delivery, endpoint: endpoint, client: client)
                _ = self.inFlight.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    func deliver(_ delivery: PushDelivery, endpoint: PushEndpointConfig, client: HTTPClient) async {
        let queue = endpoint.queue
        let outcome: DeliveryOutcome
        let status: Int?
        let secret: String
        do {
            secret = try store.openSecret(endpoint)
        } catch {
            await settle(
                delivery,
                queue: queue,
                outcome: .disabled(reason: "the endpoint's secret cannot be opened: \(error); bind it again"),
                status: nil
            )
            return
        }
        switch await targets.vet(endpoint.url) {
        case .success(let target):
            (outcome, status) = await PushRequest.send(
                delivery,
                endpoint: endpoint,
                secret: secret,
                target: target,
                workerId: Self.workerId(queue),
                version: version,
                client: client,
                clock: store.clock
            )
        case .failure(let refusal):
            // The job is released, not failed; the endpoint waits for an operator, who sees why.
            (outcome, status) = (.disabled(reason: "the function's address is not an allowed push target: \(refusal)"), nil)
        }
        await settle(delivery, queue: queue, outcome: outcome, status: status)
    }

    func settle(_ delivery: PushDelivery, queue: String, outcome: DeliveryOutcome, status: Int?) async {
        metrics?.pushDelivery(outcome.label, queue: queue)
        do {
            let settled = try await store.settlePushDelivery(
                jobId: delivery.job.id,
                deliveryId: delivery.deliveryId,
                outcome: outcome,
                httpStatus: status
            )
            logger.debug(
                "push delivery answered",
                metadata: [
                    "queue": .string(queue), "job_id": .string(delivery.job.id), "delivery_id": .string(delivery.deliveryId),
                    "outcome": .string(outcome.label), "http_status": .string(status.map(String.init) ?? "none"),
                    "settled": .stringConvertible(settled.job != nil),
                ]
            )
            if let change = settled.stateChange { logStateChange(queue: queue, change, reason: settled.endpoint?.circuit.reason) }
        } catch {
            logger.error(
                "settling a push delivery failed",
                metadata: ["queue": .string(queue), "job_id": .string(delivery.job.id), "error": .string("\(error)")]
            )
        }
    }

    /// Endpoint health changes are operator news: a disabled endpoint needs a human.
    func logStateChange(queue: String, _ change: (from: EndpointCircuit.State, to: EndpointCircuit.State), reason: String?) {
        let metadata: Logger.Metadata = [
            "queue": .string(queue), "from": .string(change.from.rawValue), "to": .string(change.to.rawValue), "reason": .string(reason ?? ""),
        ]
        metrics?.pushEndpointState(change.to.rawValue, queue: queue)
        switch change.to {
        case .disabled: logger.error("push endpoint disabled; re-enable with PUT /ojs/v1/admin/push-endpoints/\(queue)", metadata: metadata)
        case .open: logger.warning("push endpoint circuit opened", metadata: metadata)
        case .halfOpen, .active: logger.notice("push endpoint circuit changed", metadata: metadata)
        }
    }
}
