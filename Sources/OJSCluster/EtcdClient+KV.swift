import OJSCore

/// Keys: `/v3/kv/range`, `/v3/kv/put`, `/v3/kv/deleterange`, `/v3/kv/txn`.
extension EtcdClient {
    /// Gateway paths of the key-value calls.
    enum KVPath {
        static let range = "/v3/kv/range"
        static let put = "/v3/kv/put"
        static let deleteRange = "/v3/kv/deleterange"
        static let txn = "/v3/kv/txn"
    }

    /// Writes `key`, bound to `lease` when one is given (the key is deleted when the lease
    /// ends). Returns the store revision of the write. Throws `leaseNotFound` for a dead lease.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], lease: Int64?) async throws -> Int64 {
        var body: JSONObject = ["key": EtcdWire.base64(key), "value": EtcdWire.base64(value)]
        if let lease { body["lease"] = EtcdWire.int64(lease) }
        do {
            return try EtcdWire.revision(try await call(KVPath.put, .object(body)))
        } catch let error as EtcdError {
            throw Self.leaseError(error, lease: lease ?? 0)
        }
    }

    /// The key, or nil when it does not exist. A linearizable read (etcd's default).
    public func get(_ key: String) async throws -> EtcdKeyValue? {
        try EtcdWire.keyValues(try await call(KVPath.range, ["key": EtcdWire.base64(key)])).first
    }

    /// Every key starting with `prefix`, in key order.
    public func list(prefix: String) async throws -> [EtcdKeyValue] {
        let body: JSONValue = ["key": EtcdWire.base64(prefix), "range_end": EtcdWire.base64(EtcdWire.prefixEnd(prefix))]
        return try EtcdWire.keyValues(try await call(KVPath.range, body))
    }

    /// The store's current revision (from the header of a count-only read).
    public func revision() async throws -> Int64 {
        try EtcdWire.revision(try await call(KVPath.range, ["key": EtcdWire.base64([0]), "count_only": true]))
    }

    /// Deletes `key` unconditionally; true when it existed.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try EtcdWire.int64(try await call(KVPath.deleteRange, ["key": EtcdWire.base64(key)]), "deleted") > 0
    }

    /// Creates `key` only if it does not exist (one txn: compare `create_revision == 0`, then
    /// put; otherwise read it back). Returns whether this call created it and the key's create
    /// revision as it now stands: this call's when created, the holder's otherwise.
    ///
    /// A create whose answer was lost and is retried finds the key already there; when that
    /// key is bound to the same (non-zero) lease, it is this caller's own and is reported as
    /// created: no other caller holds that lease.
    public func createIfAbsent(_ key: String, _ value: [UInt8], lease: Int64?) async throws -> (created: Bool, revision: Int64) {
        var put: JSONObject = ["key": EtcdWire.base64(key), "value": EtcdWire.base64(value)]
        if let lease { put["lease"] = EtcdWire.int64(lease) }
        let compare: JSONValue = ["key": EtcdWire.base64(key), "target": "CREATE", "result": "EQUAL", "create_revision": EtcdWire.int64(0)]
        let answer: JSONObject
        do {
            answer = try await txn(
                compare: [compare],
                success: [["request_put": .object(put)]],
                failure: [["request_range": ["key": EtcdWire.base64(key)]]]
            )
        } catch let error as EtcdError {
            throw Self.leaseError(error, lease: lease ?? 0)
        }
        if answer["succeeded"]?.boolValue == true { return (true, try EtcdWire.revision(answer)) }
        let existing = try Self.rangeAnswers(answer).first
        guard let existing else {
            // Deleted between the compare and the read cannot happen inside one txn.
            throw EtcdError.malformed("txn failed its create compare but read no key")
        }
        if let lease, lease != 0, existing.lease == lease { return (true, existing.createRevision) }
        return (false, existing.createRevision)
    }

    /// Deletes `key` only if it is still bound to `lease`; true when it was deleted.
    @discardableResult
    public func deleteIfLease(_ key: String, lease: Int64) async throws -> Bool {
        let compare: JSONValue = ["key": EtcdWire.base64(key), "target": "LEASE", "result": "EQUAL", "lease": EtcdWire.int64(lease)]
        return try await conditionalDelete(key, compare: compare)
    }

    /// Deletes `key` only if it was last written at `modRevision`; true when it was deleted.
    @discardableResult
    public func compareAndDelete(_ key: String, modRevision: Int64) async throws -> Bool {
        let compare: JSONValue = ["key": EtcdWire.base64(key), "target": "MOD", "result": "EQUAL", "mod_revision": EtcdWire.int64(modRevision)]
        return try await conditionalDelete(key, compare: compare)
    }

    /// Rewrites `key` only if it still is the incarnation created at `createRevision` and bound
    /// to `lease` (so a key that vanished is not brought back). True when written.
    @discardableResult
    public func putIfHeld(_ key: String, _ value: [UInt8], lease: Int64, createRevision: Int64) async throws -> Bool {
        let compares: [JSONValue] = [
            ["key": EtcdWire.base64(key), "target": "CREATE", "result": "EQUAL", "create_revision": EtcdWire.int64(createRevision)],
            ["key": EtcdWire.base64(key), "target": "LEASE", "result": "EQUAL", "lease": EtcdWire.int64(lease)],
        ]
        let put: JSONValue = ["key": EtcdWire.base64(key), "value": EtcdWire.base64(value), "lease": EtcdWire.int64(lease)]
        return try await txn(compare: compares, success: [["request_put": put]], failure: [])["succeeded"]?.boolValue == true
    }

    private func conditionalDelete(_ key: String, compare: JSONValue) async throws -> Bool {
        let answer = try await txn(compare: [compare], success: [["request_delete_range": ["key": EtcdWire.base64(key)]]], failure: [])
        return answer["succeeded"]?.boolValue == true
    }

    func txn(compare: [JSONValue], success: [JSONValue], failure: [JSONValue]) async throws -> JSONObject {
        try await call(KVPath.txn, ["compare": .array(compare), "success": .array(success), "failure": .array(failure)])
    }

    /// The keys read by the `request_range` operations of a txn's answer.
    static func rangeAnswers(_ answer: JSONObject) throws -> [EtcdKeyValue] {
        guard let responses = answer["responses"]?.arrayValue else { return [] }
        return try responses.flatMap { response -> [EtcdKeyValue] in
            guard let range = response["response_range"]?.objectValue else { return [] }
            return try EtcdWire.keyValues(range)
        }
    }
}
