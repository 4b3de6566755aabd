import Foundation
import XCTest

/// `GET /ojs/v1/events/stream` against real processes, read the way the official SDKs read it
/// (`SSEStream`): replicas stream from their own copy, channels as both SDKs spell them,
/// resume, heartbeats, the bound on streams, auth, and shutdown.
final class EventStreamTests: XCTestCase {
    static let streamPath = "/ojs/v1/events/stream"

    func testAReplicaStreamsAJobsLifeToBothSDKsChannelSpellings() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let replica = try XCTUnwrap(cluster.replicas["eu"])
        let id = Self.uuidv7()
        // Python's subscribe_job sends the channel as is, the JS SDK percent-encodes it.
        let python = try SSEStream(port: replica.port, path: Self.streamPath + "?channel=job:\(id)")
        let js = try SSEStream(port: replica.port, path: Self.streamPath + "?channel=job%3A\(id)")
        try await python.waitUntilConnected()
        try await js.waitUntilConnected()
        XCTAssertEqual(python.header("content-type"), "text/event-stream")
        XCTAssertEqual(python.header("cache-control"), "no-cache")
        XCTAssertEqual(python.header("x-accel-buffering"), "no")
        XCTAssertEqual(python.header("ojs-served-by"), "replica/eu")

        let base = cluster.primary.baseURL
        try await Self.push(base, #"{"id":"\#(id)","type":"sse.job","args":[1],"options":{"queue":"sse"}}"#)
        try await Self.push(base, #"{"type":"sse.other","args":[2],"options":{"queue":"sse"}}"#)
        try await Self.workAll(base, queue: "sse")

        let events = try await python.waitForEvents(3)
        XCTAssertEqual(events.map(\.type), ["job.enqueued", "job.started", "job.completed"])
        XCTAssertEqual(events.map { $0.json["to"] as? String }, ["available", "active", "completed"])
        XCTAssertEqual(events.map { $0.json["from"] as? String }, [nil, "available", "active"])
        for event in events {
            XCTAssertEqual(event.json["job_id"] as? String, id)
            XCTAssertEqual(event.json["queue"] as? String, "sse")
            XCTAssertEqual(event.json["job_type"] as? String, "sse.job")
            XCTAssertEqual(event.json["id"] as? String, event.id)
            XCTAssertNotNil(event.json["time"] as? String)
        }
        let jsEvents = try await js.waitForEvents(3)
        XCTAssertEqual(jsEvents, events)
        // The other job's events never reach a stream about this one.
        try await Self.push(base, #"{"type":"sse.marker","args":[],"options":{"queue":"sse"}}"#)
        try await cluster.caughtUpDigest("eu")
        XCTAssertEqual(python.events.count, 3)
    }

    func testQueueChannelsAndTypesSelectEvents() async throws {
        let primary = try ServerProcess(dataDir: Self.directory())
        defer { primary.terminate() }
        try await primary.start()
        let queueA = try SSEStream(port: primary.port, path: Self.streamPath + "?channel=queue:a")
        let completed = try SSEStream(port: primary.port, path: Self.streamPath + "?channel=all&types=job.completed")
        let jobEvents = try SSEStream(port: primary.port, path: Self.streamPath + "?types=job.*")
        for s in [queueA, completed, jobEvents] { try await s.waitUntilConnected() }
        try await Self.push(primary.baseURL, #"{"type":"t","args":[],"options":{"queue":"a"}}"#)
        try await Self.push(primary.baseURL, #"{"type":"t","args":[],"options":{"queue":"b"}}"#)
        try await Self.workAll(primary.baseURL, queue: "b")
        _ = try await HTTP.exchange("POST", primary.baseURL + "/ojs/v1/queues/a/pause")

        let all = try await jobEvents.waitForEvents(4)
        XCTAssertEqual(all.map(\.type), ["job.enqueued", "job.enqueued", "job.started", "job.completed"])
        let done = try await completed.waitForEvents(1)
        XCTAssertEqual(done.map { $0.json["queue"] as? String }, ["b"])
        let a = try await queueA.waitForEvents(2)
        XCTAssertEqual(a.map(\.type), ["job.enqueued", "queue.paused"])
        XCTAssertEqual(Set(a.compactMap { $0.json["queue"] as? String }), ["a"])
        XCTAssertEqual(jobEvents.events.count, 4, "queue.paused is not a job.* event")
        XCTAssertEqual(completed.events.count, 1)
    }

    func testLastEventIdResumesWithNoGapAndNoDuplicate() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let base = cluster.primary.baseURL
        let replica = try XCTUnwrap(cluster.replicas["eu"])
        try await Self.pushResumeJobs(base, 0..<30)
        try await cluster.caughtUpDigest("eu")
        // Restarted, the replica's feed starts at the log's end: these events are in its
        // database only, so every resume below replays from the log before it goes live.
        replica.terminate()
        try await replica.start()
        // From the log's start: a replay from the database, then live.
        let everything = try SSEStream(port: replica.port, path: Self.streamPath + "?channel=queue:resume", headers: ["Last-Event-ID: evt_0"])
        let first = try await everything.waitForEvents(30)
        let resumeAfter = first[9].id
        // Resumed mid-log while pushes keep coming: the replay and the live tail must meet.
        async let more: Void = Self.pushResumeJobs(base, 30..<60)
        let header = try SSEStream(port: replica.port, path: Self.streamPath + "?channel=queue:resume", headers: ["Last-Event-ID: \(resumeAfter)"])
        let query = try SSEStream(port: replica.port, path: Self.streamPath + "?channel=queue:resume&last_event_id=\(resumeAfter)")
        try await more
        let all = try await everything.waitForEvents(60)
        XCTAssertEqual(Set(all.map(\.id)).count, 60, "a stream repeated an event")
        let expected = Array(all[10...])
        let resumed = try await header.waitForEvents(50)
        XCTAssertEqual(resumed, expected)
        let resumedByQuery = try await query.waitForEvents(50)
        XCTAssertEqual(resumedByQuery, expected)
        let seqs = all.compactMap { Int($0.id.dropFirst(4)) }
        XCTAssertEqual(seqs, seqs.sorted())

        // An id that is not one of ours is refused, and says so.
        let bad = try RawConnection(port: replica.port)
        try bad.sendRequest("GET", Self.streamPath, headers: ["Last-Event-ID: 1234-abc"])
        let answer = try XCTUnwrap(bad.readResponse(timeout: 5))
        XCTAssertEqual(answer.status, 400)
        let error = answer.json["error"] as? [String: Any]
        XCTAssertEqual(error?["code"] as? String, "invalid_request")
        XCTAssertTrue((error?["message"] as? String ?? "").contains("Last-Event-ID"))
    }

    /// The primary's feed stops reading the log while no stream is open, so a push costs no
    /// feed work then; a stream that opens afterwards with an older Last-Event-ID still gets
    /// every event written while nobody watched, then the live ones, in order and once each.
    func testAStreamResumedAfterNoStreamWasOpenMissesNothing() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.primary.start()
        let base = cluster.primary.baseURL
        let path = Self.streamPath + "?channel=queue:resume"
        let first = try SSEStream(port: cluster.primary.port, path: path)
        try await first.waitUntilConnected()
        try await Self.pushResumeJobs(base, 0..<5)
        let seen = try await first.waitForEvents(5)
        first.close()
        // Written while the only stream is gone: its slot is freed at the first failed write,
        // and the feed goes idle.
        try await Self.pushResumeJobs(base, 5..<15)
        let resumed = try SSEStream(port: cluster.primary.port, path: path, headers: ["Last-Event-ID: \(seen[4].id)"])
        let replayed = try await resumed.waitForEvents(10)
        try await Self.pushResumeJobs(base, 15..<20)
        let all = try await resumed.waitForEvents(15)
        XCTAssertEqual(Array(all.prefix(10)), replayed)
        let seqs = all.compactMap { Int($0.id.dropFirst(4)) }
        XCTAssertEqual(seqs.count, 15)
        XCTAssertEqual(seqs, Array((seqs.first ?? 0)..<((seqs.first ?? 0) + 15)), "no gap and no repeat: \(seqs)")
        XCTAssertEqual(seqs.first, (Int(seen[4].id.dropFirst(4)) ?? -1) + 1)
    }

    func testAnIdleStreamGetsHeartbeats() async throws {
        let primary = try ServerProcess(dataDir: Self.directory(), environment: ["OJS_EVENT_STREAM_HEARTBEAT_MS": "200"])
        defer { primary.terminate() }
        try await primary.start()
        let stream = try SSEStream(port: primary.port, path: Self.streamPath)
        try await stream.waitUntilConnected()
        try await eventually("two heartbeats arrived", within: 10) { stream.comments.filter { $0 == " heartbeat" }.count >= 2 }
        XCTAssertTrue(stream.events.isEmpty)
        XCTAssertFalse(stream.isEnded)
    }

    func testStreamsPastTheBoundAreRefusedUntilOneEnds() async throws {
        // A short heartbeat: a stream whose client left is noticed at its next write.
        let primary = try ServerProcess(
            dataDir: Self.directory(),
            environment: ["OJS_MAX_EVENT_STREAMS": "2", "OJS_EVENT_STREAM_HEARTBEAT_MS": "100"]
        )
        defer { primary.terminate() }
        try await primary.start()
        let one = try SSEStream(port: primary.port, path: Self.streamPath)
        let two = try SSEStream(port: primary.port, path: Self.streamPath)
        try await one.waitUntilConnected()
        try await two.waitUntilConnected()
        let third = try RawConnection(port: primary.port)
        try third.sendRequest("GET", Self.streamPath)
        let refused = try XCTUnwrap(third.readResponse(timeout: 5))
        XCTAssertEqual(refused.status, 503)
        // The metrics say how close the node is to its bound.
        let scrape = try await HTTP.session.data(from: try XCTUnwrap(URL(string: primary.baseURL + "/metrics"))).0
        let metrics = String(decoding: scrape, as: UTF8.self)
        XCTAssertTrue(metrics.contains("\nojs_event_streams 2"), "two streams open")
        XCTAssertTrue(metrics.contains("\nojs_event_streams_limit 2"))
        XCTAssertTrue(refused.head.lowercased().contains("retry-after: 1"), refused.head)
        let error = refused.json["error"] as? [String: Any]
        XCTAssertEqual(error?["code"] as? String, "unavailable")
        XCTAssertEqual(error?["retryable"] as? Bool, true)

        one.close()
        let next: SSEStream = try await eventually("a slot is free again once a stream ended") {
            let s = try SSEStream(port: primary.port, path: Self.streamPath)
            try await eventually("an answer", within: 5) { s.statusCode != nil }
            return s.statusCode == 200 ? s : nil
        }
        try await next.waitUntilConnected()
    }

    func testAKeyIsRequiredAndABadChannelIsRefused() async throws {
        let primary = try ServerProcess(
            dataDir: Self.directory(),
            environment: ["OJS_API_KEY": "stream-key", "OJS_REPLICATION_KEY": "stream-node-key"]
        )
        defer { primary.terminate() }
        try await primary.start()
        func answer(_ path: String, _ headers: [String]) throws -> RawConnection.Response {
            let c = try RawConnection(port: primary.port)
            try c.sendRequest("GET", path, headers: headers)
            return try XCTUnwrap(c.readResponse(timeout: 5))
        }
        XCTAssertEqual(try answer(Self.streamPath, []).status, 401)
        XCTAssertEqual(try answer(Self.streamPath + "?channel=job:x", ["Authorization: Bearer stream-node-key"]).status, 401)
        let bad = try answer(Self.streamPath + "?channel=workers:all", ["Authorization: Bearer stream-key"])
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual((bad.json["error"] as? [String: Any])?["code"] as? String, "invalid_request")
        let open = try SSEStream(port: primary.port, path: Self.streamPath + "?channel=all", headers: ["Authorization: Bearer stream-key"])
        try await open.waitUntilConnected()
    }

    func testSIGTERMEndsOpenStreamsPromptly() async throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try await cluster.start(replicas: ["eu"])
        let replica = try XCTUnwrap(cluster.replicas["eu"])
        let onPrimary = try SSEStream(port: cluster.primary.port, path: Self.streamPath)
        let onReplica = try SSEStream(port: replica.port, path: Self.streamPath)
        try await onPrimary.waitUntilConnected()
        try await onReplica.waitUntilConnected()
        // The default heartbeat is 15 s: a shutdown that waited for the streams would linger.
        cluster.primary.terminate(grace: 5)
        XCTAssertFalse(cluster.primary.lingered, "the primary waited for its event stream")
        XCTAssertEqual(cluster.primary.exitStatus, 0)
        try await eventually("the primary's stream ended", within: 5) { onPrimary.isEnded }
        replica.terminate(grace: 5)
        XCTAssertFalse(replica.lingered, "the replica waited for its event stream")
        try await eventually("the replica's stream ended", within: 5) { onReplica.isEnded }
    }

    // MARK: Helpers

    static func directory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ojs-sse-\(UUID().uuidString)")
    }

    static func push(_ base: String, _ json: String) async throws {
        let r = try await HTTP.exchange("POST", base + "/ojs/v1/jobs", json: json)
        guard r.status == 201 else { throw TestFailure("push answered \(r.status): \(r.json)") }
    }

    static func pushResumeJobs(_ base: String, _ range: Range<Int>) async throws {
        for i in range { try await push(base, #"{"type":"r","args":[\#(i)],"options":{"queue":"resume"}}"#) }
    }

    /// Fetches and acknowledges every job in `queue`.
    static func workAll(_ base: String, queue: String) async throws {
        while true {
            let r = try await HTTP.exchange("POST", base + "/ojs/v1/workers/fetch", json: #"{"queues":["\#(queue)"],"count":10}"#)
            let jobs = r.json["jobs"] as? [[String: Any]] ?? []
            if jobs.isEmpty { return }
            for job in jobs {
                guard let id = job["id"] as? String else { continue }
                let ack = try await HTTP.exchange("POST", base + "/ojs/v1/workers/ack", json: #"{"job_id":"\#(id)","result":{"ok":true}}"#)
                guard ack.status == 200 else { throw TestFailure("ack answered \(ack.status): \(ack.json)") }
            }
        }
    }

    /// A lowercase UUIDv7, so a test can subscribe to a job before pushing it.
    static func uuidv7() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let millis = UInt64(Date().timeIntervalSince1970 * 1000)
        for i in 0..<6 { bytes[i] = UInt8((millis >> (8 * (5 - UInt64(i)))) & 0xff) }
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255) }
        bytes[6] = 0x70 | (bytes[6] & 0x0f)
        bytes[8] = 0x80 | (bytes[8] & 0x3f)
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
