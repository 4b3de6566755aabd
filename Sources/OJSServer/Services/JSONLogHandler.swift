import Foundation
import Logging
import OJSCore
import Synchronization

/// swift-log handler that writes one JSON object per line to standard error:
/// `{"ts","level","label","msg",…metadata}`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String

    private static let lock = Mutex(())

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o = JSONObject()
        o["ts"] = .string(Timestamp.format(millis: Int64(Date().timeIntervalSince1970 * 1000)))
        o["level"] = .string(event.level.rawValue)
        o["label"] = .string(label)
        o["msg"] = .string(event.message.description)
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) { o[k] = Self.json(v) }
        var line = JSONValue.object(o).jsonText
        line.append("\n")
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c):
            if let i = Int64(c.description) { return .int(i) }
            return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(JSONObject(d.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}
