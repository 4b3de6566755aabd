/// A request that carries an idempotency key (a push, or a worker's fetch, ack or nack): the
/// key, a fingerprint of the request it names, and how long its first answer is kept for
/// repeats. The server reads the key from the request (`docs/idempotency.md`).
///
/// The fingerprint covers the method, the path and the body bytes exactly as sent, so the
/// same key on another endpoint, or with a body that differs in any byte (key order and
/// whitespace included), is a different request. Byte equality is what a retrying client
/// produces; anything looser would have to guess which differences matter.
public struct IdempotencyClaim: Sendable, Equatable {
    public var key: String
    public var fingerprint: String
    public var windowMs: Int64

    /// Longest key accepted; UUIDs and ULIDs are far shorter.
    public static let maxKeyLength = 255

    /// 1 to `maxKeyLength` visible ASCII characters (`0x21`–`0x7E`).
    public static func isValid(key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= maxKeyLength && key.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    public init(key: String, method: String, path: String, body: [UInt8], windowMs: Int64) throws(OJSError) {
        guard Self.isValid(key: key) else {
            throw OJSError(.invalidRequest, "An idempotency key must be 1 to \(Self.maxKeyLength) visible ASCII characters.")
        }
        self.key = key
        self.fingerprint = Digests.sha256Hex(Array("\(method) \(path)\n".utf8) + body)
        self.windowMs = windowMs
    }

    /// The error for a key that is reused with a different request.
    public func mismatch() -> OJSError {
        OJSError(
            .idempotencyKeyMismatch,
            "Idempotency key '\(key)' was already used for a different request; repeat "
                + "it only with the identical method, path and body, or use a new key.",
            details: ["idempotency_key": .string(key)]
        )
    }
}

/// The answer a key's first request got, replayed to every repeat within the window.
public struct RecordedResponse: Sendable, Equatable {
    public var status: Int
    public var location: String?
    public var body: String

    public init(status: Int, location: String? = nil, body: String) {
        self.status = status
        self.location = location
        self.body = body
    }
}
