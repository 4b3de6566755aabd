import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// One region's clients, all talking to their regional replica through the client link:
/// producers push single jobs and batches (forwarded to the primary), workers fetch and ack
/// (forwarded too), and readers read back the region's own recent writes, some with the
/// write's bookmark and some without.
struct RegionWorkload: Sendable {
    let region: String
    let baseURL: String
    let spec: Topology.Workload
    let visibilityTimeoutMs: Int
    let client: HTTPClient
    let observations: Observations
    let seed: UInt64
    let until: ContinuousClock.Instant

    var queue: String { "sim-\(region)" }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            let pushes = spec.pushesPerS ?? 10
            if pushes > 0 { group.addTask { await paceOpenLoop(pushes) { i in await pushOne(i) } } }
            let batches = spec.batchesPerS ?? 1
            if batches > 0 { group.addTask { await paceOpenLoop(batches) { i in await pushBatch(i) } } }
            let workers = max(spec.workers ?? 2, 0)
            let fetches = spec.fetchesPerS ?? 6
            for w in 0..<workers where fetches > 0 {
                group.addTask { await paceSequential(fetches / Double(workers)) { await work(worker: "\(region)-w\(w)") } }
            }
            let reads = spec.readsPerS ?? 20
            if reads > 0 {
                group.addTask {
                    await paceOpenLoop(reads) { i in
                        // Derived from the read's index, so concurrent reads need no shared generator.
                        var rng = SplitMix(seed &+ UInt64(i) &* 0x9E37_79B9)
                        await readBack(pick: rng.next(), bookmarked: rng.unit() < (spec.bookmarkedReadShare ?? 0.5))
                    }
                }
            }
        }
    }

    /// Producers and readers are many independent clients: requests start at the configured
    /// rate whatever the answers' latency (up to `maxInFlight` outstanding), so a far region
    /// sends as much as a near one and pays for it in latency, not in rate.
    private func paceOpenLoop(_ rate: Double, maxInFlight: Int = 64, _ body: @escaping @Sendable (Int) async -> Void) async {
        let interval = Duration.nanoseconds(Int64(1e9 / rate))
        await withTaskGroup(of: Void.self) { group in
            var next = ContinuousClock.now
            var inFlight = 0
            var i = 0
            while ContinuousClock.now < until {
                if inFlight >= maxInFlight {
                    await group.next()
                    inFlight -= 1
                    continue
                }
                let index = i
                group.addTask { await body(index) }
                inFlight += 1
                i += 1
                // Behind schedule (the cap was hit) the schedule restarts from now: no burst to catch up.
                next = max(next + interval, ContinuousClock.now - interval)
                if next > ContinuousClock.now { try? await Task.sleep(until: next, clock: .continuous) }
            }
        }
    }

    /// A worker is one loop: fetch, process, fetch again, at most `rate` times a second.
    private func paceSequential(_ rate: Double, _ body: () async -> Void) async {
        let interval = Duration.nanoseconds(Int64(1e9 / rate))
        var next = ContinuousClock.now
        while ContinuousClock.now < until {
            await body()
            next = max(next + interval, ContinuousClock.now - interval)
            if next > ContinuousClock.now { try? await Task.sleep(until: next, clock: .continuous) }
        }
    }

    /// Sends one request and books its latency or its failure under `op`.
    private func timed(
        _ op: String,
        _ method: HTTPMethod,
        _ path: String,
        json: String? = nil,
        bookmark: String? = nil,
        ok: Set<Int>
    ) async -> Exchange? {
        let start = ContinuousClock.now
        do {
            let r = try await client.exchange(method, baseURL + path, json: json, bookmark: bookmark)
            let ms = Double((ContinuousClock.now - start) / .microseconds(1)) / 1000
            guard ok.contains(r.status) else {
                let code = (r.json["error"] as? [String: Any])?["code"] as? String
                observations.failed(region, op, kind: "http \(r.status)" + (code.map { " \($0)" } ?? ""))
                return r
            }
            observations.succeeded(region, op, ms: ms)
            return r
        } catch {
            observations.failed(region, op, kind: TransportFailure.kind(error))
            return nil
        }
    }

    private func pushOne(_ i: Int) async {
        let body = #"{"type":"sim.job","args":["\#(region)",\#(i)],"options":{"queue":"\#(queue)"}}"#
        guard let r = await timed("push", .POST, "/ojs/v1/jobs", json: body, ok: [201]), r.status == 201,
            let id = (r.json["job"] as? [String: Any])?["id"] as? String
        else { return }
        observations.answeredWrite(servedBy: r.servedBy)
        observations.acknowledgedPush(region, ids: [id], bookmark: r.bookmark)
    }

    private func pushBatch(_ i: Int) async {
        let jobs = (0..<max(spec.batchSize ?? 10, 1)).map {
            #"{"type":"sim.batch","args":["\#(region)",\#(i),\#($0)],"options":{"queue":"\#(queue)"}}"#
        }
        guard let r = await timed("batch", .POST, "/ojs/v1/jobs/batch", json: #"{"jobs":[\#(jobs.joined(separator: ","))]}"#, ok: [200, 201]),
            r.status == 200 || r.status == 201
        else { return }
        let ids = (r.json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        observations.answeredWrite(servedBy: r.servedBy)
        observations.acknowledgedPush(region, ids: ids, bookmark: r.bookmark)
    }

    /// One fetch and an ack for everything it claimed.
    private func work(worker: String) async {
        let sent = ClaimLedger.now()
        let body =
            #"{"queues":["\#(queue)"],"count":\#(spec.fetchCount ?? 5),"worker_id":"\#(worker)","visibility_timeout_ms":\#(visibilityTimeoutMs)}"#
        guard let r = await timed("fetch", .POST, "/ojs/v1/workers/fetch", json: body, ok: [200]), r.status == 200 else { return }
        let received = ClaimLedger.now()
        let claimed = (r.json["jobs"] as? [[String: Any]] ?? []).compactMap { job -> (String, Int)? in
            guard let id = job["id"] as? String, let attempt = job["attempt"] as? Int else { return nil }
            return (id, attempt)
        }
        for (id, attempt) in claimed {
            observations.claims.claimed(.init(id: id, attempt: attempt, worker: worker, sent: sent, received: received))
        }
        // The jobs of one fetch are processed side by side, as an SDK worker with concurrency would.
        await withTaskGroup(of: Void.self) { group in
            for (id, _) in claimed {
                group.addTask {
                    let ackSent = ClaimLedger.now()
                    let ack = await timed("ack", .POST, "/ojs/v1/workers/ack", json: #"{"job_id":"\#(id)","result":{"ok":true}}"#, ok: [200])
                    if let ack, ack.status == 200 {
                        observations.claims.acked(id, sent: ackSent, received: ClaimLedger.now())
                        observations.acknowledgedAck(region, id: id, bookmark: ack.bookmark)
                    }
                }
            }
        }
    }

    /// Reads back one of the region's latest writes. With the write's bookmark the answer
    /// must reflect it (read-your-writes); without, a miss is a stale read.
    private func readBack(pick: UInt64, bookmarked: Bool) async {
        guard let write = observations.recentWrite(region, pick: pick) else { return }
        let bookmark = bookmarked ? write.bookmark : nil
        let op = bookmark == nil ? "read" : "read with bookmark"
        guard let r = await timed(op, .GET, "/ojs/v1/jobs/\(write.jobId)", bookmark: bookmark, ok: [200, 404]), r.status == 200 || r.status == 404
        else {
            return
        }
        let state = (r.json["job"] as? [String: Any])?["state"] as? String
        let reflected: Bool
        switch write.expectation {
        case .exists: reflected = r.status == 200
        case .completed: reflected = state == "completed"
        }
        observations.read(
            region,
            local: r.servedBy?.hasPrefix("replica/") ?? false,
            bookmarked: bookmark != nil,
            reflected: reflected,
            detail:
                "\(write.jobId) expected \(write.expectation) at \(bookmark ?? "-"), "
                + "got \(r.status) \(state ?? "") from \(r.servedBy ?? "?") at \(r.bookmark ?? "?")"
        )
    }
}
