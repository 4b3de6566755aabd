import Foundation

/// A queue's binding to a function URL: where its jobs are pushed, how they are signed, and
/// the limits that protect the function. Given in `PUT /ojs/v1/admin/push-endpoints/{queue}`
/// or in the `serve --push-config` file.
public struct PushEndpointConfig: Sendable, Equatable {
    public var queue: String
    public var url: String
    /// The HMAC key of the delivery signature. Never logged; shown masked.
    public var secret: String
    /// Deliveries in flight at once (including accepted ones awaiting a late receipt).
    public var concurrency: Int = 10
    /// Deliveries started per second on average; nil is unlimited.
    public var ratePerSecond: Double?
    /// Deliveries that may start at once after a quiet period (the bucket's size).
    public var burst: Int = 1
    /// How long one HTTP delivery may take before it counts as a retryable failure.
    public var timeoutMs: Int64 = 30_000
    /// How long a delivery stays active awaiting a late receipt (after `202 Accepted`) before
    /// the job is reclaimed. At least `timeoutMs`.
    public var receiptTimeoutMs: Int64 = 300_000
    /// Consecutive failures that open the circuit.
    public var failureThreshold: Int = 5
    /// How long an open circuit waits before a half-open probe.
    public var cooldownMs: Int64 = 60_000

    public init(queue: String, url: String, secret: String) {
        self.queue = queue
        self.url = url
        self.secret = secret
    }

    /// The secret as shown by the admin API: its last four characters at most, and only
    /// when long enough that they give little away.
    /// A sealed secret (as loaded from the database) shows nothing at all.
    public var maskedSecret: String { secret.count >= 16 && !SecretSealer.isSealed(secret) ? "****" + secret.suffix(4) : "****" }

    /// Parses a binding object; `queue` comes from the path, or from the object in a config file.
    public static func parse(_ value: JSONValue, queue pathQueue: String? = nil) throws(OJSError) -> PushEndpointConfig {
        guard let o = value.objectValue else { throw OJSError(.invalidRequest, "A push endpoint must be a JSON object.") }
        var queue = pathQueue
        if queue == nil { queue = try o.string("queue") }
        guard let queue, Names.isValidQueue(queue) else {
            throw OJSError.invalid("A push endpoint needs a valid queue name (lowercase letters, digits, '-' and '.').", field: "queue")
        }
        guard let url = try o.string("url"), isHTTPURL(url) else {
            throw OJSError.invalid("Field 'url' must be an absolute http:// or https:// URL.", field: "url")
        }
        guard let secret = try o.string("secret"), !secret.isEmpty else {
            throw OJSError.invalid("Field 'secret' must be a non-empty string: every delivery is signed with it.", field: "secret")
        }
        var config = PushEndpointConfig(queue: queue, url: url, secret: secret)
        config.concurrency = try int(o, "concurrency", in: 1...10_000).map { Int($0) } ?? config.concurrency
        if let rate = try o.object("rate") {
            guard let perSecond = rate["per_second"]?.doubleValue, perSecond > 0, perSecond <= 100_000 else {
                throw OJSError.invalid("Field 'rate.per_second' must be a number between 0 (exclusive) and 100000.", field: "rate.per_second")
            }
            config.ratePerSecond = perSecond
            config.burst = try int(rate, "burst", in: 1...100_000, path: "rate.burst").map { Int($0) } ?? config.burst
        }
        config.timeoutMs = try int(o, "timeout_ms", in: 1...3_600_000) ?? config.timeoutMs
        config.receiptTimeoutMs = try int(o, "receipt_timeout_ms", in: 1...86_400_000) ?? max(config.receiptTimeoutMs, config.timeoutMs)
        guard config.receiptTimeoutMs >= config.timeoutMs else {
            throw OJSError.invalid("Field 'receipt_timeout_ms' must be at least 'timeout_ms'.", field: "receipt_timeout_ms")
        }
        if let breaker = try o.object("circuit_breaker") {
            config.failureThreshold =
                try int(breaker, "failure_threshold", in: 1...1000, path: "circuit_breaker.failure_threshold").map { Int($0) }
                ?? config.failureThreshold
            config.cooldownMs = try int(breaker, "cooldown_ms", in: 1...86_400_000, path: "circuit_breaker.cooldown_ms") ?? config.cooldownMs
        }
        return config
    }

    /// The bindings of a `--push-config` file: `{"endpoints":[…]}` or a bare array, each
    /// element naming its `queue`.
    public static func parseFile(_ value: JSONValue) throws(OJSError) -> [PushEndpointConfig] {
        guard let list = value["endpoints"]?.arrayValue ?? value.arrayValue else {
            throw OJSError(.invalidRequest, "A push configuration is {\"endpoints\":[…]} or an array of endpoints.")
        }
        var configs: [PushEndpointConfig] = []
        for (i, item) in list.enumerated() {
            do throws(OJSError) {
                let config = try parse(item)
                guard !configs.contains(where: { $0.queue == config.queue }) else {
                    throw OJSError.invalid("Queue '\(config.queue)' is bound twice.", field: "queue")
                }
                configs.append(config)
            } catch {
                throw error.atIndex(i, field: "endpoints")
            }
        }
        return configs
    }

    /// The binding as the admin API shows it (secret masked).
    public func json(maskSecret: Bool = true) -> JSONObject {
        var o = JSONObject()
        o["queue"] = .string(queue)
        o["url"] = .string(url)
        o["secret"] = .string(maskSecret ? maskedSecret : secret)
        o["concurrency"] = .int(Int64(concurrency))
        if let ratePerSecond {
            o["rate"] = ["per_second": .double(ratePerSecond), "burst": .int(Int64(burst))]
        } else {
            o["rate"] = .null
        }
        o["timeout_ms"] = .int(timeoutMs)
        o["receipt_timeout_ms"] = .int(receiptTimeoutMs)
        o["circuit_breaker"] = ["failure_threshold": .int(Int64(failureThreshold)), "cooldown_ms": .int(cooldownMs)]
        return o
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else { return false }
        return scheme == "http" || scheme == "https"
    }

    static func int(_ o: JSONObject, _ key: String, in range: ClosedRange<Int64>, path: String? = nil) throws(OJSError) -> Int64? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let n = v.intValue, range.contains(n) else {
            let name = path ?? key
            throw OJSError.invalid("Field '\(name)' must be an integer between \(range.lowerBound) and \(range.upperBound).", field: name)
        }
        return n
    }
}
