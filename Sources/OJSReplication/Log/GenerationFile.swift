#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `<dir>/generation`: which history the log holds and where it starts.
///
///     <generation as lowercase UUID>\n
///     start-after-txid <B>\n          (only when B > 0)
///
/// A history normally starts at txid 1. It may instead start after txid B — when the primary
/// begins a new generation at its database's existing position — and then its first record is
/// B + 1, chaining from checksum 0. B lives here because an empty log has no segment to carry it.
struct GenerationFile: Equatable {
    var generation: Generation
    var startsAfter: UInt64

    static let startKey = "start-after-txid"

    static func read(at path: String) throws -> GenerationFile {
        let fd = try SegmentIO.openFile(path, O_RDONLY)
        defer { SegmentIO.closeFile(fd) }
        let bytes = try SegmentIO.read(fd, count: 256, at: 0, path: path)
        let lines = String(decoding: bytes, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: " \t\r") }
            .filter { !$0.isEmpty }
        guard let first = lines.first, let generation = Generation(text: first), lines.count <= 2 else {
            throw ReplicationLogError.badGenerationFile(path: path)
        }
        var startsAfter: UInt64 = 0
        if lines.count == 2 {
            let parts = lines[1].split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0] == startKey, let value = UInt64(parts[1]) else {
                throw ReplicationLogError.badGenerationFile(path: path)
            }
            startsAfter = value
        }
        return GenerationFile(generation: generation, startsAfter: startsAfter)
    }

    func write(to path: String, directory: String) throws {
        var text = generation.text + "\n"
        if startsAfter > 0 { text += "\(GenerationFile.startKey) \(startsAfter)\n" }
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
