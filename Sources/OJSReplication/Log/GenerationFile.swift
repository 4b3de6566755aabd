#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `<dir>/generation`: which history the log holds and where it starts.
///
///     <generation as lowercase UUID>\n
///     start-after-txid <B>\n          (only when B > 0)
///     start-checksum <C>\n            (only when C > 0)
///
/// A history normally starts at txid 1. It may instead start after txid B — when the primary
/// begins a new generation at its database's existing position — and then its first record is
/// B + 1, chaining from checksum 0. A replica's relay log restarted at a snapshot's position
/// starts after B in the middle of the primary's chain, so its first record chains from the
/// snapshot's checksum C. B and C live here because an empty log has no segment to carry them.
/// Files written before `start-checksum` existed have no such line and mean C = 0.
struct GenerationFile: Equatable {
    var generation: Generation
    var startsAfter: UInt64
    var startChecksum: UInt32 = 0

    static let startKey = "start-after-txid"
    static let checksumKey = "start-checksum"

    static func read(at path: String) throws -> GenerationFile {
        let fd = try SegmentIO.openFile(path, O_RDONLY)
        defer { SegmentIO.closeFile(fd) }
        let bytes = try SegmentIO.read(fd, count: 256, at: 0, path: path)
        let lines = String(decoding: bytes, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: " \t\r") }
            .filter { !$0.isEmpty }
        guard let first = lines.first, let generation = Generation(text: first), lines.count <= 3 else {
            throw ReplicationLogError.badGenerationFile(path: path)
        }
        var values: [String: UInt64] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0] == startKey || parts[0] == checksumKey, values[String(parts[0])] == nil,
                let value = UInt64(parts[1])
            else {
                throw ReplicationLogError.badGenerationFile(path: path)
            }
            values[String(parts[0])] = value
        }
        guard let checksum = UInt32(exactly: values[checksumKey] ?? 0) else { throw ReplicationLogError.badGenerationFile(path: path) }
        return GenerationFile(generation: generation, startsAfter: values[startKey] ?? 0, startChecksum: checksum)
    }

    func write(to path: String, directory: String) throws {
        var text = generation.text + "\n"
        if startsAfter > 0 { text += "\(GenerationFile.startKey) \(startsAfter)\n" }
        if startChecksum != 0 { text += "\(GenerationFile.checksumKey) \(startChecksum)\n" }
        try SegmentIO.writeAtomically(Array(text.utf8), to: path, directory: directory)
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        let trimmedFront = drop { characters.contains($0) }
        var end = trimmedFront.endIndex
        while end > trimmedFront.startIndex, characters.contains(trimmedFront[trimmedFront.index(before: end)]) {
            end = trimmedFront.index(before: end)
        }
        return String(trimmedFront[..<end])
    }
}
