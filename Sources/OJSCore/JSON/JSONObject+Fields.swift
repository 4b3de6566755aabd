/// Typed reads of optional request fields: absent or `null` is nil, a value of the wrong type
/// is a `400 invalid_request` naming the field (as `path`, e.g. `error.code`).
extension JSONObject {
    public func string(_ key: String, path: String? = nil) throws(OJSError) -> String? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw OJSError.invalid("Field '\(path ?? key)' must be a string.", field: path ?? key) }
        return s
    }

    public func bool(_ key: String, path: String? = nil) throws(OJSError) -> Bool? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw OJSError.invalid("Field '\(path ?? key)' must be a boolean.", field: path ?? key) }
        return b
    }

    public func object(_ key: String, path: String? = nil) throws(OJSError) -> JSONObject? {
        guard let v = self[key], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw OJSError.invalid("Field '\(path ?? key)' must be an object.", field: path ?? key) }
        return o
    }
}
