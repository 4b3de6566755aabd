import Foundation
import OJSSimulation

/// Producers and workers that go through every node of a failover cluster, as clients behind
/// a load balancer would: each push retries with its Idempotency-Key on the next node until
/// it is answered 2xx; each worker fetches (visibility 60 s, longer than any test) and acks.
/// Records what clients were told, with times, for the failover tests' checks.
final class FailoverLoad: @unchecked Sendable {
    struct Push {
        var id: String
        var servedBy: String
        var sent: Double
        var received: Double
    }

    static let visibilityMs = 60_000
    let queue: String
    private let lock = NSLock()
    private var pushes: [Push] = []
    private var stopped = false
    let ledger = Ledger()

    init(queue: String) { self.queue = queue }

    var acknowledged: [Push] { lock.withLock { pushes } }
    var isStopped: Bool { lock.withLock { stopped } }
    func stop() { lock.withLock { stopped = true } }

    /// Runs `producers` and `workers` over `bases` (resolved at each request, so a test can
    /// change which nodes are up) until `stop()`.
    func run(producers: Int, workers: Int, bases: @escaping @Sendable () -> [String]) async {
        await withTaskGroup(of: Void.self) { group in
            for p in 0..<producers { group.addTask { await self.produce(p, bases: bases) } }
            for w in 0..<workers { group.addTask { await self.work(w, bases: bases) } }
        }
    }

    private func produce(_ producer: Int, bases: @Sendable () -> [String]) async {
        var seq = 0
        var turn = producer
        while !isStopped {
            seq += 1
            let key = "p\(producer)-\(seq)-\(UUID().uuidString.prefix(8))"
            let body = #"{"type":"failover.job","queue":"\#(queue)","args":[\#(producer),\#(seq)]}"#
            while !isStopped {
                let list = bases()
                guard !list.isEmpty else { break }
                turn += 1
                let base = list[turn % list.count]
                let sent = Ledger.now()
                if let r = try? await HTTP.exchange("POST", base + "/ojs/v1/jobs", json: body, headers: ["Idempotency-Key": key]),
                    (200..<300).contains(r.status), let job = r.json["job"] as? [String: Any], let id = job["id"] as? String
                {
                    let push = Push(id: id, servedBy: r.headers["ojs-served-by"] ?? "", sent: sent, received: Ledger.now())
                    lock.withLock { pushes.append(push) }
                    ledger.pushed(id)
                    break
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private func work(_ worker: Int, bases: @Sendable () -> [String]) async {
        var turn = worker
        while !isStopped {
            let list = bases()
            guard !list.isEmpty else { return }
            turn += 1
            let base = list[turn % list.count]
            let sent = Ledger.now()
            let body = #"{"queues":["\#(queue)"],"count":5,"worker_id":"w\#(worker)","visibility_timeout_ms":\#(Self.visibilityMs)}"#
            guard let r = try? await HTTP.exchange("POST", base + "/ojs/v1/workers/fetch", json: body), r.status == 200 else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let received = Ledger.now()
            let jobs = r.json["jobs"] as? [[String: Any]] ?? []
            if jobs.isEmpty { try? await Task.sleep(for: .milliseconds(10)) }
            for job in jobs {
                guard let id = job["id"] as? String, let attempt = job["attempt"] as? Int else { continue }
                ledger.claimed(Ledger.Claim(id: id, attempt: attempt, worker: "w\(worker)", sent: sent, received: received))
                // Acks retry through any node until answered: a worker keeps its job.
                for retry in 0..<50 where !isStopped {
                    let ackBase = list[(turn + retry) % list.count]
                    let ackSent = Ledger.now()
                    let ack = try? await HTTP.exchange(
                        "POST",
                        ackBase + "/ojs/v1/workers/ack",
                        json: #"{"job_id":"\#(id)","result":{"ok":true}}"#,
                        headers: ["Idempotency-Key": "ack-\(id)"]
                    )
                    if ack?.status == 200 {
                        ledger.acked(id, sent: ackSent, received: Ledger.now())
                        break
                    }
                    if ack?.status == 409 || ack?.status == 404 { break }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        }
    }
}
