/// Drives one OJS scenario over one keep-alive connection.
final class HTTPWorker: LoadWorker {
    let scenario: Scenario
    let index: Int
    let port: Int
    let setupPort: Int
    let payload: String
    private var conn: HTTPConnection!
    private var fixed: [UInt8] = []
    private var fetch: [UInt8] = []
    private var ids: [String] = []
    private var cursor = 0

    init(scenario: Scenario, index: Int, port: Int, setupPort: Int?, payloadBytes: Int) {
        self.scenario = scenario
        self.index = index
        self.port = port
        self.setupPort = setupPort ?? port
        self.payload = String(repeating: "x", count: payloadBytes)
    }

    private var queue: String {
        if case .cycle = scenario { return "cycle-\(index)" }
        return "bench"
    }

    private func job(_ n: Int) -> String {
        #"{"type":"bench.job","queue":"\#(queue)","args":[\#(n),"\#(payload)"]}"#
    }

    private func batchBody(_ count: Int) -> [UInt8] {
        Array(#"{"jobs":["#.utf8) + Array((0..<count).map { job($0) }.joined(separator: ",").utf8) + Array("]}".utf8)
    }

    func setup() throws {
        conn = try HTTPConnection(port: port)
        switch scenario {
        case .get(let path):
            fixed = HTTPConnection.request("GET", path)
        case .push:
            fixed = HTTPConnection.request("POST", "/ojs/v1/jobs", body: Array(job(index).utf8))
        case .batch(let n):
            fixed = HTTPConnection.request("POST", "/ojs/v1/jobs/batch", body: batchBody(n))
        case .cycle(let n):
            fixed =
                n == 1
                ? HTTPConnection.request("POST", "/ojs/v1/jobs", body: Array(job(index).utf8))
                : HTTPConnection.request("POST", "/ojs/v1/jobs/batch", body: batchBody(n))
            let body = #"{"queues":["\#(queue)"],"count":\#(n),"worker_id":"bench-\#(index)"}"#
            fetch = HTTPConnection.request("POST", "/ojs/v1/workers/fetch", body: Array(body.utf8))
        case .status:
            // Jobs to read, pushed through the primary; on a replica, wait until they arrive.
            let writer = try HTTPConnection(port: setupPort)
            let response = try writer.send(HTTPConnection.request("POST", "/ojs/v1/jobs/batch", body: batchBody(100)))
            guard response.status < 300 else { throw Socket.Failure(description: "setup push: HTTP \(response.status)") }
            ids = JobIDs.extract(response.body)
            guard let last = ids.last else { throw Socket.Failure(description: "setup push returned no ids") }
            let probe = HTTPConnection.request("GET", "/ojs/v1/jobs/\(last)")
            let deadline = nowNanos() + 30_000_000_000
            while try conn.send(probe).status != 200 {
                guard nowNanos() < deadline else { throw Socket.Failure(description: "job \(last) never visible on port \(port)") }
            }
        }
    }

    func operation(_ r: inout Recorder) throws {
        switch scenario {
        case .get, .push:
            let response = try r.timed { try conn.send(fixed) }
            r.status(response.status)
            r.completed(jobs: 1)
        case .batch(let n):
            let response = try r.timed { try conn.send(fixed) }
            r.status(response.status)
            if response.status < 300 { r.completed(jobs: n) }
        case .cycle:
            let pushed = try r.timed { try conn.send(fixed) }
            r.status(pushed.status)
            let fetched = try r.timed { try conn.send(fetch) }
            r.status(fetched.status)
            for id in JobIDs.extract(fetched.body) {
                let ack = HTTPConnection.request("POST", "/ojs/v1/workers/ack", body: Array(#"{"job_id":"\#(id)"}"#.utf8))
                let acked = try r.timed { try conn.send(ack) }
                r.status(acked.status)
                if acked.status < 300 { r.completed(jobs: 1) }
            }
        case .status:
            let id = ids[cursor]
            cursor = (cursor + 1) % ids.count
            let response = try r.timed { try conn.send(HTTPConnection.request("GET", "/ojs/v1/jobs/\(id)")) }
            r.status(response.status)
            r.completed(jobs: 1)
        }
    }
}

/// Job ids in a response body, in order, without repeats.
enum JobIDs {
    /// Scans for `"id":"…"` rather than parsing JSON: the client shares the CPU with the
    /// server, and the bench's own jobs carry no other field named `id`.
    static func extract(_ body: [UInt8]) -> [String] {
        let key = Array(#""id":""#.utf8)
        var out: [String] = []
        var seen = Set<String>()
        var i = 0
        while i + key.count < body.count {
            if body[i] == key[0] && body[i..<(i + key.count)].elementsEqual(key) {
                var j = i + key.count
                while j < body.count && body[j] != 34 { j += 1 }
                let id = String(decoding: body[(i + key.count)..<j], as: UTF8.self)
                if seen.insert(id).inserted { out.append(id) }
                i = j
            } else {
                i += 1
            }
        }
        return out
    }
}
