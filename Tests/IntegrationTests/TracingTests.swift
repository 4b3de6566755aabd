import Foundation
import XCTest

/// Spans exported by a real `ojs-edge` over OTLP/HTTP to a receiver in the test: a job's
/// push, fetch, attempts and outcome are one trace, joined by the producer's and the
/// worker's own spans through `traceparent`.
final class TracingTests: XCTestCase {
    typealias Span = OTLPReceiver.Span

    static func hex(_ bytes: Int) -> String { (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }

    /// `00-<trace>-<span>-01` split into trace and span id.
    static func parse(_ traceparent: Any?) -> (trace: String, span: String)? {
        let parts = (traceparent as? String)?.split(separator: "-").map(String.init) ?? []
        return parts.count == 4 ? (parts[1], parts[2]) : nil
    }

    func withTracedServer(_ body: (ServerProcess, OTLPReceiver) async throws -> Void) async throws {
        let receiver = try OTLPReceiver()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-trace-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try ServerProcess(dataDir: dir, environment: receiver.environment)
        defer { server.terminate() }
        try await server.start()
        try await body(server, receiver)
    }

    func push(_ server: ServerProcess, _ json: String, parent: String) async throws -> (id: String, meta: (trace: String, span: String)) {
        let r = try await HTTP.exchange("POST", server.baseURL + "/ojs/v1/jobs", json: json, headers: ["traceparent": parent])
        let job = r.json["job"] as? [String: Any]
        guard r.status == 201, let id = job?["id"] as? String, let meta = Self.parse((job?["meta"] as? [String: Any])?["traceparent"]) else {
            throw TestFailure("push failed: \(r.status) \(r.json)")
        }
        return (id, meta)
    }

    func fetch(_ server: ServerProcess, _ queue: String, visibilityMs: Int? = nil) async throws -> [String: Any] {
        let vt = visibilityMs.map { #","visibility_timeout_ms":\#($0)"# } ?? ""
        let r = try await HTTP.exchange("POST", server.baseURL + "/ojs/v1/workers/fetch", json: #"{"queues":["\#(queue)"],"worker_id":"w1"\#(vt)}"#)
        guard let job = (r.json["jobs"] as? [[String: Any]])?.first else { throw TestFailure("nothing fetched from \(queue)") }
        return job
    }

    func testAPushAFetchAndAnAckAreOneTraceWithTheRightParents() async throws {
        try await withTracedServer { server, receiver in
            let trace = Self.hex(16)
            let producer = Self.hex(8)
            let job = try await push(server, #"{"type":"trace.demo","args":[1],"options":{"queue":"traced"}}"#, parent: "00-\(trace)-\(producer)-01")
            XCTAssertEqual(job.meta.trace, trace, "the job carries the producer's trace")
            XCTAssertNotEqual(job.meta.span, producer, "and the server's enqueue span as parent")

            let fetched = try await fetch(server, "traced")
            XCTAssertEqual(Self.parse((fetched["meta"] as? [String: Any])?["traceparent"])?.span, job.meta.span, "the worker gets it on fetch")

            // The worker's handler span, a child of meta.traceparent, sends the ack.
            let worker = Self.hex(8)
            let ack = try await HTTP.exchange(
                "POST",
                server.baseURL + "/ojs/v1/workers/ack",
                json: #"{"job_id":"\#(job.id)","result":{"ok":true}}"#,
                headers: ["traceparent": "00-\(trace)-\(worker)-01"]
            )
            XCTAssertEqual(ack.status, 200)

            func one(_ spans: [Span], _ match: (Span) -> Bool) -> Span? { spans.first(where: match) }
            let found = try await receiver.wait("the whole trace") { spans -> (Span, Span, Span, Span, Span, Span)? in
                guard let pushHTTP = one(spans, { $0.traceId == trace && $0.attributes["http.route"] == "/ojs/v1/jobs" }),
                    let enqueue = one(spans, { $0.traceId == trace && $0.name == "ojs.job.enqueue" }),
                    let jobFetch = one(spans, { $0.traceId == trace && $0.name == "ojs.job.fetch" }),
                    let fetchHTTP = one(spans, { $0.attributes["http.route"] == "/ojs/v1/workers/fetch" }),
                    let attempt = one(spans, { $0.traceId == trace && $0.name == "ojs.job.attempt" }),
                    let ackHTTP = one(spans, { $0.traceId == trace && $0.attributes["http.route"] == "/ojs/v1/workers/ack" })
                else { return nil }
                return (pushHTTP, enqueue, jobFetch, fetchHTTP, attempt, ackHTTP)
            }
            let (pushHTTP, enqueue, jobFetch, fetchHTTP, attempt, ackHTTP) = found
            XCTAssertEqual(pushHTTP.parentSpanId, producer, "the push request continues the producer's span")
            XCTAssertEqual(pushHTTP.kind, 2)
            XCTAssertEqual(enqueue.parentSpanId, pushHTTP.spanId)
            XCTAssertEqual(enqueue.spanId, job.meta.span, "meta.traceparent names the enqueue span")
            XCTAssertEqual(enqueue.kind, 4)
            XCTAssertEqual(jobFetch.parentSpanId, enqueue.spanId)
            XCTAssertEqual(jobFetch.attributes["messaging.message.id"], job.id)
            XCTAssertNotEqual(fetchHTTP.traceId, trace, "the fetch request is the worker's own trace")
            XCTAssertTrue(jobFetch.links.contains { $0.traceId == fetchHTTP.traceId && $0.spanId == fetchHTTP.spanId }, "linked to it")
            XCTAssertEqual(attempt.parentSpanId, enqueue.spanId)
            XCTAssertEqual(attempt.attributes["ojs.job.outcome"], "completed")
            XCTAssertEqual(attempt.attributes["ojs.worker.id"], "w1")
            XCTAssertLessThanOrEqual(attempt.start, attempt.end)
            XCTAssertLessThanOrEqual(enqueue.start, attempt.start, "the attempt starts at the fetch, after the enqueue")
            XCTAssertEqual(ackHTTP.parentSpanId, worker, "the ack continues the worker's span")
            XCTAssertEqual(Set([pushHTTP, enqueue, attempt].map(\.service)), ["ojs-edge"])
        }
    }

    func testRetriesDeadLettersTimeoutsAndWorkflowStepsAreSpansOfTheirJobsTrace() async throws {
        try await withTracedServer { server, receiver in
            // A failed attempt that will be retried.
            let retried = try await push(
                server,
                #"{"type":"t.retry","args":[],"options":{"queue":"q-retry","retry":{"max_attempts":3,"jitter":false}}}"#,
                parent: "00-\(Self.hex(16))-\(Self.hex(8))-01"
            )
            _ = try await fetch(server, "q-retry")
            _ = try await HTTP.exchange(
                "POST",
                server.baseURL + "/ojs/v1/workers/nack",
                json: #"{"job_id":"\#(retried.id)","error":{"code":"boom","message":"no"}}"#
            )

            // A last attempt that dead-letters the job.
            let dead = try await push(
                server,
                #"{"type":"t.dead","args":[],"options":{"queue":"q-dead","retry":{"max_attempts":1,"on_exhaustion":"dead_letter"}}}"#,
                parent: "00-\(Self.hex(16))-\(Self.hex(8))-01"
            )
            _ = try await fetch(server, "q-dead")
            _ = try await HTTP.exchange(
                "POST",
                server.baseURL + "/ojs/v1/workers/nack",
                json: #"{"job_id":"\#(dead.id)","error":{"code":"fatal","message":"no"}}"#
            )

            // An attempt abandoned until its reservation lapses (the scheduler reclaims it).
            let lapsed = try await push(
                server,
                #"{"type":"t.lapse","args":[],"options":{"queue":"q-lapse"}}"#,
                parent: "00-\(Self.hex(16))-\(Self.hex(8))-01"
            )
            _ = try await fetch(server, "q-lapse", visibilityMs: 200)

            // A two-step chain: each step is enqueued in the trace of the request that created it.
            let wfTrace = Self.hex(16)
            let wf = try await HTTP.exchange(
                "POST",
                server.baseURL + "/ojs/v1/workflows",
                json:
                    #"{"type":"chain","steps":[{"type":"wf.a","args":[],"options":{"queue":"q-wf"}},{"type":"wf.b","args":[],"options":{"queue":"q-wf"}}]}"#,
                headers: ["traceparent": "00-\(wfTrace)-\(Self.hex(8))-01"]
            )
            XCTAssertEqual(wf.status, 201)
            let first = try await fetch(server, "q-wf")
            let stepParent = Self.parse((first["meta"] as? [String: Any])?["traceparent"])
            XCTAssertEqual(stepParent?.trace, wfTrace)
            _ = try await HTTP.exchange("POST", server.baseURL + "/ojs/v1/workers/ack", json: #"{"job_id":"\#(first["id"] as? String ?? "")"}"#)

            func spans(_ all: [Span], _ name: String, of job: (id: String, meta: (trace: String, span: String))) -> [Span] {
                all.filter { $0.name == name && $0.traceId == job.meta.trace && $0.parentSpanId == job.meta.span }
            }
            let retry = try await receiver.wait("retry spans") { all -> (Span, Span)? in
                guard let attempt = spans(all, "ojs.job.attempt", of: retried).first, let retry = spans(all, "ojs.job.retry", of: retried).first
                else { return nil }
                return (attempt, retry)
            }
            XCTAssertEqual(retry.0.attributes["ojs.job.outcome"], "retry")
            XCTAssertEqual(retry.0.attributes["error.type"], "boom")
            XCTAssertEqual(retry.0.status, 2)
            XCTAssertEqual(retry.1.attributes["ojs.retry.delay_ms"], "1000")

            let deadSpans = try await receiver.wait("dead-letter spans") { all -> (Span, Span)? in
                guard let attempt = spans(all, "ojs.job.attempt", of: dead).first, let dl = spans(all, "ojs.job.dead_letter", of: dead).first
                else { return nil }
                return (attempt, dl)
            }
            XCTAssertEqual(deadSpans.0.attributes["ojs.job.outcome"], "discarded")
            XCTAssertEqual(deadSpans.1.status, 2)

            let timedOut = try await receiver.wait("the lapsed attempt") { spans($0, "ojs.job.attempt", of: lapsed).first }
            XCTAssertEqual(timedOut.attributes["ojs.job.outcome"], "visibility_timeout")
            XCTAssertGreaterThanOrEqual(timedOut.end - timedOut.start, 200_000_000, "from the fetch to the reservation's end")

            let steps = try await receiver.wait("both workflow steps") { all -> [Span]? in
                let found = all.filter { $0.name == "ojs.workflow.step" && $0.traceId == wfTrace }
                return found.count == 2 ? found : nil
            }
            let create = receiver.spans.first { $0.name == "ojs.workflow.create" && $0.traceId == wfTrace }
            XCTAssertEqual(Set(steps.map(\.parentSpanId)), [create?.spanId ?? "missing"])
            XCTAssertEqual(stepParent?.span, create?.spanId)
            XCTAssertEqual(Set(steps.map { $0.attributes["ojs.job.type"] ?? "" }), ["wf.a", "wf.b"])
        }
    }

    func testAPushThroughAReplicaCarriesItsTraceToThePrimary() async throws {
        let receiver = try OTLPReceiver()
        let cluster = try Cluster(primaryEnvironment: receiver.environment)
        defer { cluster.stop() }
        try await cluster.primary.start()
        let replica = try await cluster.addReplica("eu", environment: receiver.environment)
        let trace = Self.hex(16)
        let client = Self.hex(8)
        let r = try await HTTP.exchange(
            "POST",
            replica.baseURL + "/ojs/v1/jobs",
            json: #"{"type":"via.replica","args":[]}"#,
            headers: ["traceparent": "00-\(trace)-\(client)-01"]
        )
        XCTAssertEqual(r.status, 201)
        XCTAssertEqual(Self.parse(((r.json["job"] as? [String: Any])?["meta"] as? [String: Any])?["traceparent"])?.trace, trace)

        let (atReplica, forward, atPrimary, enqueue) = try await receiver.wait("the forwarded trace") { spans -> (Span, Span, Span, Span)? in
            let mine = spans.filter { $0.traceId == trace }
            guard let atReplica = mine.first(where: { $0.service == "ojs-edge-replica" && $0.kind == 2 }),
                let forward = mine.first(where: { $0.name == "ojs.forward" }),
                let atPrimary = mine.first(where: { $0.service == "ojs-edge" && $0.kind == 2 }),
                let enqueue = mine.first(where: { $0.name == "ojs.job.enqueue" })
            else { return nil }
            return (atReplica, forward, atPrimary, enqueue)
        }
        XCTAssertEqual(atReplica.parentSpanId, client)
        XCTAssertEqual(forward.parentSpanId, atReplica.spanId)
        XCTAssertEqual(forward.kind, 3)
        XCTAssertEqual(forward.service, "ojs-edge-replica")
        XCTAssertEqual(atPrimary.parentSpanId, forward.spanId, "the primary continues the replica's forward span")
        XCTAssertEqual(enqueue.parentSpanId, atPrimary.spanId)
    }
}
