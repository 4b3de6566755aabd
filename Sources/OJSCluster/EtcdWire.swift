import Foundation
import OJSCore

/// The gateway's JSON encoding: base64 keys and values, int64s as strings (numbers are accepted
/// too, but etcd always answers strings). One place, so no call site spells a field twice.
enum EtcdWire {
    static func base64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }
    static func base64(_ text: String) -> JSONValue { base64(Array(text.utf8)) }
    static func int64(_ value: Int64) -> JSONValue { .string(String(value)) }

    /// An int64 field: absent means 0 (proto3 leaves zero values out).
    static func int64(_ object: JSONObject, _ key: String) throws -> Int64 {
        guard let field = object[key] else { return 0 }
        if let text = field.stringValue, let value = Int64(text) { return value }
        if let value = field.intValue { return value }
        throw EtcdError.malformed("\(key) is not an int64: \(field.jsonText)")
    }

    static func bytes(_ object: JSONObject, _ key: String) throws -> [UInt8] {
        guard let field = object[key] else { return [] }
        guard let text = field.stringValue, let data = Data(base64Encoded: text) else {
            throw EtcdError.malformed("\(key) is not base64")
        }
        return Array(data)
    }

    static func object(_ object: JSONObject, _ key: String) throws -> JSONObject {
        guard let value = object[key]?.objectValue else { throw EtcdError.malformed("no \(key) object") }
        return value
    }

    /// The store revision in an answer's header.
    static func revision(_ answer: JSONObject) throws -> Int64 { try int64(object(answer, "header"), "revision") }

    static func keyValue(_ object: JSONObject) throws -> EtcdKeyValue {
        EtcdKeyValue(
            key: String(decoding: try bytes(object, "key"), as: UTF8.self),
            value: try bytes(object, "value"),
            createRevision: try int64(object, "create_revision"),
            modRevision: try int64(object, "mod_revision"),
            version: try int64(object, "version"),
            lease: try int64(object, "lease")
        )
    }

    static func keyValues(_ answer: JSONObject) throws -> [EtcdKeyValue] {
        guard let kvs = answer["kvs"] else { return [] }
        guard let array = kvs.arrayValue else { throw EtcdError.malformed("kvs is not an array") }
        return try array.map { item in
            guard let object = item.objectValue else { throw EtcdError.malformed("a kv is not an object") }
            return try keyValue(object)
        }
    }

    /// The end of the range holding every key that starts with `prefix`: the prefix with its
    /// last byte that is not 0xff incremented (etcd's own rule); "\0" (every key) when none is.
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }
}
