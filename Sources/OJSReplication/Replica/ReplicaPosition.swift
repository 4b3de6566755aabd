import Foundation
import OJSCore

/// Where a replica's copy stands in the primary's history: which generation, which txid, and
/// the record chain's checksum there (to verify the next record). Persisted as a small JSON
/// file replaced atomically after every apply.
public struct ReplicaPosition: Sendable, Equatable {
    public var generation: Generation
    public var txid: TxID
    public var checksum: UInt32

    public init(generation: Generation, txid: TxID, checksum: UInt32) {
        self.generation = generation
        self.txid = txid
        self.checksum = checksum
    }

    public static func load(from url: URL) -> ReplicaPosition? {
        guard let data = try? Data(contentsOf: url), let json = try? JSONParser.parse(Array(data)),
            let gen = json["generation"]?.stringValue.flatMap(Generation.init(text:)), let txid = json["txid"]?.intValue,
            let checksum = json["checksum"]?.intValue, txid >= 0, checksum >= 0
        else { return nil }
        return ReplicaPosition(generation: gen, txid: TxID(txid), checksum: UInt32(truncatingIfNeeded: checksum))
    }

    func save(to url: URL) throws {
        let json: JSONValue = ["generation": .string(generation.text), "txid": .int(Int64(txid)), "checksum": .int(Int64(checksum))]
        try SegmentIO.writeAtomically(Array(json.jsonText.utf8), to: url.path, directory: url.deletingLastPathComponent().path)
    }
}
