import Foundation
import PropertyBased

/// A request built to be wrong in many ways at once: any route with any method, odd path
/// parameters and query strings, valid bodies mutated (fields replaced, bytes flipped,
/// truncated, deeply nested), random bytes, and odd header values.
struct FuzzRequest: Sendable, CustomStringConvertible {
    var method: String
    var path: String
    var headers: [(String, String)]
    var body: [UInt8]?

    var description: String {
        "\(method) \(path) headers=\(headers) body=\(body.map { String(decoding: $0.prefix(200), as: UTF8.self) } ?? "none")"
    }

    /// Every route with a body a client could plausibly send to it. The replication stream is
    /// left out: a valid request to it is answered with a stream that never ends.
    static let routes: [(method: String, path: String, example: String?)] = [
        (
            "POST", "/ojs/v1/jobs",
            #"{"type":"fuzz.job","args":[1,"a",{"k":[true,null]}],"meta":{"m":1},"options":{"queue":"fuzz","priority":3,"retry":{"max_attempts":2}},"scheduled_at":"+PT1S","unique":{"key":["a"],"within":"PT1M"}}"#
        ),
        ("POST", "/ojs/v1/jobs/batch", #"{"jobs":[{"type":"fuzz.a","args":[]},{"type":"fuzz.b","args":[2],"options":{"queue":"fuzz"}}]}"#),
        ("GET", "/ojs/v1/jobs/:id", nil), ("DELETE", "/ojs/v1/jobs/:id", nil), ("POST", "/ojs/v1/jobs/:id/activate", nil),
        ("GET", "/ojs/v1/jobs/:id/progress", nil), ("POST", "/ojs/v1/jobs/:id/progress", #"{"progress":50,"message":"half"}"#),
        ("PUT", "/ojs/v1/jobs/:id/progress", #"{"percent":10}"#),
        ("POST", "/ojs/v1/workers/fetch", #"{"queues":["fuzz"],"count":2,"worker_id":"fw","visibility_timeout_ms":1000}"#),
        ("POST", "/ojs/v1/workers/ack", #"{"job_id":":id","result":{"ok":true}}"#),
        ("POST", "/ojs/v1/workers/nack", #"{"job_id":":id","error":{"code":"e","message":"m","retryable":false}}"#),
        ("POST", "/ojs/v1/workers/heartbeat", #"{"worker_id":"fw","active_jobs":[":id"],"visibility_timeout_ms":500}"#),
        ("POST", "/ojs/v1/workers/beat", #"{"worker_id":"fw","active_jobs":1}"#),
        ("POST", "/ojs/v1/workers/progress", #"{"job_id":":id","progress":5}"#), ("GET", "/ojs/v1/workers/:id/health", nil),
        ("GET", "/ojs/v1/queues", nil), ("GET", "/ojs/v1/queues/:id/stats", nil),
        ("POST", "/ojs/v1/queues/:id/pause", nil), ("POST", "/ojs/v1/queues/:id/resume", nil),
        ("GET", "/ojs/v1/cron", nil), ("DELETE", "/ojs/v1/cron/:id", nil),
        (
            "POST", "/ojs/v1/cron",
            #"{"name":"fz","expression":"*/5 * * * *","timezone":"Europe/Paris","overlap_policy":"skip","job_template":{"type":"fuzz.cron","args":[]}}"#
        ),
        ("POST", "/ojs/v1/workflows", #"{"type":"chain","name":"w","steps":[{"type":"fuzz.a","args":[]},{"type":"fuzz.b","args":[]}]}"#),
        ("GET", "/ojs/v1/workflows/:id", nil), ("DELETE", "/ojs/v1/workflows/:id", nil),
        ("GET", "/ojs/v1/dead-letter", nil), ("DELETE", "/ojs/v1/dead-letter/:id", nil), ("POST", "/ojs/v1/dead-letter/:id/retry", nil),
        ("GET", "/ojs/v1/admin/dead-letter", nil), ("GET", "/ojs/v1/admin/dead-letter/stats", nil),
        ("DELETE", "/ojs/v1/admin/dead-letter/:id", nil), ("POST", "/ojs/v1/admin/dead-letter/:id/retry", nil),
        ("GET", "/ojs/v1/admin/jobs/:id", nil), ("POST", "/ojs/v1/admin/jobs/bulk/retry", #"{"filter":{"state":"discarded","queue":"fuzz"}}"#),
        ("GET", "/ojs/v1/admin/queues", nil), ("GET", "/ojs/v1/admin/stats", nil), ("GET", "/ojs/v1/admin/workers", nil),
        ("POST", "/ojs/v1/admin/tick", nil), ("POST", "/ojs/v1/dead-letter/retry", #"{"queue":"fuzz","limit":5}"#),
        ("POST", "/ojs/v1/admin/dead-letter/retry", nil), ("POST", "/ojs/v1/dead-letter/delete", #"{"type":"fuzz.a","confirm":true}"#),
        ("POST", "/ojs/v1/admin/queues/:id/pause", nil), ("POST", "/ojs/v1/admin/queues/:id/resume", nil),
        ("PUT", "/ojs/v1/admin/queues/:id/config", #"{"backpressure":{"max_depth":5,"strategy":"reject"}}"#),
        ("GET", "/ojs/v1/events", nil), ("GET", "/ojs/v1/rate-limits/:id", nil), ("GET", "/ojs/v1/health", nil),
        ("GET", "/ojs/manifest", nil), ("GET", "/ojs/v1/replication/status", nil), ("GET", "/ojs/v1/replication/digest", nil),
        ("POST", "/ojs/v1/replication/replicas/:id/position", #"{"applied_txid":1,"state":"streaming","generation":"00000000"}"#),
        ("GET", "/ojs/v1/replication/snapshot", nil), ("GET", "/metrics", nil), ("GET", "/ojs/dashboard", nil),
        ("POST", "/ojs/v1/admin/reset", nil),
    ]

    static let generator = Generator<FuzzRequest, Shrink.None<FuzzRequest>> { rng in random(using: &rng) }

    static func random(using rng: inout any SeededRandomNumberGenerator) -> FuzzRequest {
        let route = routes[Int.random(in: 0..<routes.count, using: &rng)]
        let parameter = pathParameter(using: &rng)
        var method = route.method
        if Int.random(in: 0..<10, using: &rng) == 0 {
            method = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"].randomElement(using: &rng) ?? "GET"
        }
        var path = route.path.replacingOccurrences(of: ":id", with: parameter)
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: path += "/" + token(using: &rng)
        case 1:
            path +=
                "?" + ["limit=-1", "offset=abc", "state=zzz&queue=", "types=%00", "limit=99999999999999999999", "a=\(token(using: &rng))"]
                .randomElement(using: &rng)!
        case 2: path = path.replacingOccurrences(of: "/ojs/v1/", with: "/ojs/v1//")
        default: break
        }
        let example = route.example?.replacingOccurrences(of: ":id", with: parameter)
        return FuzzRequest(method: method, path: path, headers: headers(using: &rng), body: body(example, using: &rng))
    }

    static func pathParameter(using rng: inout any SeededRandomNumberGenerator) -> String {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return "0190b8a8-0000-7000-8000-" + String(format: "%012x", Int.random(in: 0..<(1 << 40), using: &rng))
        case 1: return String(repeating: "a", count: Int.random(in: 200...3000, using: &rng))
        case 2: return ["%00", "%ff%fe", "..%2F..", "%E2%82%AC", "%", "a%2Fb", "null", "-1", "9223372036854775808"].randomElement(using: &rng)!
        case 3: return "fuzz"
        default: return token(using: &rng)
        }
    }

    /// Printable ASCII without the characters that would end a path segment.
    static func token(using rng: inout any SeededRandomNumberGenerator) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@")
        let n = Int.random(in: 1...40, using: &rng)
        return String((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }

    static func headers(using rng: inout any SeededRandomNumberGenerator) -> [(String, String)] {
        var out: [(String, String)] = []
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: break
        case 1:
            out.append(
                ("Content-Type", ["text/plain", "application/json; charset=latin1", "multipart/form-data", "*/*", ""].randomElement(using: &rng)!)
            )
        case 2: out.append(("Content-Type", "application/json"))
        default: out.append(("Content-Type", "application/openjobspec+json"))
        }
        let optional = ["X-Request-Id", "OJS-Bookmark", "OJS-Max-Staleness-Ms", "Authorization", "Accept", "Idempotency-Key", "traceparent"]
        for name in optional where Int.random(in: 0..<4, using: &rng) == 0 {
            let value: String
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: value = String(repeating: "x", count: Int.random(in: 100...4000, using: &rng))
            case 1:
                value = ["-1", "0", "18446744073709551616", "ffffffffffffffff-00000000", "Bearer", "Bearer \u{7f}", "00-zz-yy-01"].randomElement(
                    using: &rng
                )!
            default: value = token(using: &rng)
            }
            out.append((name, value))
        }
        return out
    }

    static func body(_ example: String?, using rng: inout any SeededRandomNumberGenerator) -> [UInt8]? {
        let valid = Array((example ?? "{}").utf8)
        switch Int.random(in: 0..<11, using: &rng) {
        case 0: return nil
        case 1: return (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 2: return Array(randomJSON(depth: 0, using: &rng).utf8)
        case 3: return valid
        case 4:
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            return bytes
        case 5: return Array(valid.prefix(Int.random(in: 0...valid.count, using: &rng)))
        case 6:
            let depth = Int.random(in: 100...3000, using: &rng)
            return Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
        default: return replacingAValue(in: example ?? "{}", using: &rng)
        }
    }

    /// The example with one JSON value (after a `:`) swapped for a random one: right shape,
    /// wrong types and ranges.
    static func replacingAValue(in example: String, using rng: inout any SeededRandomNumberGenerator) -> [UInt8] {
        let colons = example.indices.filter { example[$0] == ":" }
        guard let colon = colons.randomElement(using: &rng) else { return Array(randomJSON(depth: 0, using: &rng).utf8) }
        var end = example.index(after: colon)
        var depth = 0
        var inString = false
        while end < example.endIndex {
            let c = example[end]
            if inString {
                if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "{" || c == "[" {
                depth += 1
            } else if c == "}" || c == "]" {
                if depth == 0 { break }
                depth -= 1
            } else if c == ",", depth == 0 {
                break
            }
            end = example.index(after: end)
        }
        return Array((example[...colon] + randomJSON(depth: 0, using: &rng) + example[end...]).utf8)
    }

    static func randomJSON(depth: Int, using rng: inout any SeededRandomNumberGenerator) -> String {
        switch Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &rng) {
        case 0: return "null"
        case 1: return Bool.random(using: &rng) ? "true" : "false"
        case 2: return ["0", "-1", "1e308", "-9223372036854775809", "18446744073709551616", "0.5", "1e-400", "3"].randomElement(using: &rng)!
        case 3: return "\"" + token(using: &rng) + "\""
        case 4:
            return ["\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"PT-1S\"", "\"+PT99999999999S\"", "\"2026-02-30T25:61:00Z\""].randomElement(using: &rng)!
        case 5: return "\"" + String(repeating: "é", count: Int.random(in: 1...3000, using: &rng)) + "\""
        case 6:
            return "[" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in randomJSON(depth: depth + 1, using: &rng) }.joined(separator: ",") + "]"
        default:
            let keys = ["type", "args", "queue", "queues", "count", "job_id", "id", "options", "meta", "retry", token(using: &rng)]
            let fields = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                "\"\(keys.randomElement(using: &rng)!)\":" + randomJSON(depth: depth + 1, using: &rng)
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }
}
