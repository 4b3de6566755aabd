import Foundation
import OJSCore

/// Where a replica's copy stands in the primary's history: which generation, which txid, and
/// the record chain's checksum there (to verify the next record). Persisted as a small JSON
/// file replaced atomically after every apply.
public struct ReplicaPosition: Sendable, Equatable {
    public var generation: Generation
    public var txid: UInt64
    public var checksum: UInt32

    public init(generation: Generation, txid: UInt64, checksum: UInt32) {
        self.generation = generation
        self.txid = txid
        self.checksum = checksum
    }

    static func load(from url: URL) -> ReplicaPosition? {
        guard let data = try? Data(contentsOf: url), let json = try? JSONParser.parse(Array(data)),
            let gen = json["generation"]?.stringValue.flatMap(Generation.init(text:)), let txid = json["txid"]?.intValue,
            let checksum = json["checksum"]?.intValue, txid >= 0, checksum >= 0
        else { return nil }
        return ReplicaPosition(generation: gen, txid: UInt64(txid), checksum: UInt32(truncatingIfNeeded: checksum))
    }

    func save(to url: URL) throws {
        let json: JSONValue = ["generation": .string(generation.text), "txid": .int(Int64(txid)), "checksum": .int(Int64(checksum))]
        try Durable.write(Array(json.jsonText.utf8), to: url)
    }
}

/// Write-then-rename with fsyncs, so a crash leaves the old file or the new one.
enum Durable {
    static func write(_ bytes: [UInt8], to url: URL) throws {
        let temp = url.path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DurableError.io("open \(temp)", errno) }
        defer { close(fd) }
        var written = 0
        try bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            while written < raw.count {
                let n = Glibc.write(fd, base.advanced(by: written), raw.count - written)
                guard n > 0 else { throw DurableError.io("write \(temp)", errno) }
                written += n
            }
        }
        guard fsync(fd) == 0 else { throw DurableError.io("fsync \(temp)", errno) }
        guard rename(temp, url.path) == 0 else { throw DurableError.io("rename \(temp)", errno) }
        let dir = open(url.deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    enum DurableError: Error, CustomStringConvertible {
        case io(String, Int32)
        var description: String {
            switch self {
            case .io(let op, let e): return "\(op) failed: \(String(cString: strerror(e)))"
            }
        }
    }
}
