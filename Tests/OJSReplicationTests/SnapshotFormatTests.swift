import Foundation
import XCTest

@testable import OJSReplication

/// The snapshot wire format v2 and the replica's download: chunks verified one by one, damage
/// and truncation detected at the chunk where they happen, resumption from there, and a final
/// checksum that keeps a wrong image from ever being installed.
final class SnapshotFormatTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "snapshot-format-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// 3.5 chunks of 8 KiB over 512-byte pages: a short last chunk included.
    struct Fixture {
        let image: [UInt8]
        let header: SnapshotHeader
        var trailer: SnapshotTrailer

        init(seed: UInt64 = 7) {
            var rng = SplitMix64(state: seed)
            // Half random, half repetitive, so chunks compress differently.
            image = (0..<(28 * 1024)).map { i in i % 2048 < 1024 ? UInt8(truncatingIfNeeded: rng.next()) : UInt8(i % 7) }
            header = SnapshotHeader(
                generation: .random(),
                id: .random(),
                txid: 42,
                checksum: 0xDEAD_BEEF,
                pageSize: 512,
                imageLength: UInt64(image.count),
                chunkSize: 8192
            )
            trailer = SnapshotTrailer(
                id: header.id,
                txid: 42,
                imageLength: UInt64(image.count),
                imageChecksum: image.withUnsafeBytes { Zlib.crc32(0, $0) }
            )
        }

        func chunk(_ index: UInt64) throws -> [UInt8] {
            let start = Int(index) * Int(header.chunkSize)
            let slice = Array(image[start..<(start + header.length(ofChunk: index))])
            return try slice.withUnsafeBytes { try SnapshotChunk.encode(index: index, $0) }
        }

        /// A whole body from `first` on.
        func body(from first: UInt64 = 0) throws -> [UInt8] {
            var h = header
            h.firstChunk = first
            var out = h.encode()
            for i in first..<header.chunkCount { out += try chunk(i) }
            return out + trailer.encode()
        }
    }

    /// Feeds `bytes` in uneven pieces; returns the chunks received and the error, if any.
    func decode(_ bytes: [UInt8], into decoder: inout SnapshotStreamDecoder, piece: Int = 1000) -> (chunks: [UInt64: [UInt8]], error: SnapshotError?)
    {
        var chunks: [UInt64: [UInt8]] = [:]
        var offset = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + piece + offset % 37)
                decoder.feed(bytes[offset..<end])
                offset = end
                while let part = try decoder.next() {
                    if case .chunk(let index, let data) = part { chunks[index] = data }
                }
            }
            try decoder.finish()
        } catch {
            return (chunks, error)
        }
        return (chunks, nil)
    }

    func testAWholeBodyDecodesToTheImage() throws {
        let f = Fixture()
        XCTAssertEqual(f.header.chunkCount, 4)
        var decoder = SnapshotStreamDecoder()
        let (chunks, error) = decode(try f.body(), into: &decoder)
        XCTAssertNil(error)
        XCTAssertEqual(decoder.header?.sameImage(as: f.header), true)
        XCTAssertEqual(decoder.trailer, f.trailer)
        XCTAssertEqual((0..<4).flatMap { chunks[UInt64($0)] ?? [] }, f.image)
    }

    func testACorruptChunkIsDetectedAtThatChunkAndTheRestResumesFromIt() throws {
        let f = Fixture()
        var body = try f.body()
        // Inside chunk 2's compressed payload.
        let chunk2 = SnapshotFormat.headerSize + (try f.chunk(0)).count + (try f.chunk(1)).count
        body[chunk2 + SnapshotFormat.chunkHeaderSize + 5] ^= 0x5A
        var decoder = SnapshotStreamDecoder()
        let (chunks, error) = decode(body, into: &decoder)
        guard case .corruptChunk(let index, _) = error else { return XCTFail("expected a corrupt chunk, got \(String(describing: error))") }
        XCTAssertEqual(index, 2)
        XCTAssertEqual(Set(chunks.keys), [0, 1], "chunks before the damage were delivered, none after")

        var resumed = SnapshotStreamDecoder()
        let (rest, again) = decode(try f.body(from: 2), into: &resumed)
        XCTAssertNil(again)
        XCTAssertEqual(Set(rest.keys), [2, 3])
        XCTAssertEqual((0..<4).flatMap { (chunks[UInt64($0)] ?? rest[UInt64($0)]) ?? [] }, f.image)
    }

    func testADamagedChunkHeaderOrOutOfOrderChunkIsRefused() throws {
        let f = Fixture()
        var body = f.header.encode() + (try f.chunk(1))
        var decoder = SnapshotStreamDecoder()
        guard case .corruptChunk(0, _) = decode(body, into: &decoder).error else { return XCTFail("chunk 1 in place of 0 accepted") }
        body = f.header.encode() + (try f.chunk(0))
        body[SnapshotFormat.headerSize + 13] ^= 1  // length field
        decoder = SnapshotStreamDecoder()
        guard case .corruptChunk(0, _) = decode(body, into: &decoder).error else { return XCTFail("damaged chunk header accepted") }
    }

    func testATruncatedStreamSaysWhichChunkIsMissing() throws {
        let f = Fixture()
        let body = try f.body()
        let cut = SnapshotFormat.headerSize + (try f.chunk(0)).count + 100
        var decoder = SnapshotStreamDecoder()
        let (chunks, error) = decode(Array(body[0..<cut]), into: &decoder)
        XCTAssertEqual(error, .truncated(nextChunk: 1))
        XCTAssertEqual(Set(chunks.keys), [0])
        // Without its trailer the body is incomplete too.
        decoder = SnapshotStreamDecoder()
        XCTAssertEqual(decode(Array(body.dropLast(SnapshotFormat.trailerSize)), into: &decoder).error, .truncated(nextChunk: 4))
    }

    func testADamagedHeaderIsRefused() throws {
        var bytes = Fixture().header.encode()
        bytes[45] ^= 1
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try SnapshotHeader.decode($0) })
    }

    // MARK: - The replica's download

    func testADownloadResumesFromItsLastWholeChunk() throws {
        let f = Fixture()
        let first = try SnapshotDownload.start(f.header, in: directory, extraBytes: 0)
        for i in 0..<2 { try first.write(chunk: UInt64(i), bytes: Array(f.image[(i * 8192)..<((i + 1) * 8192)])) }
        first.close()
        // Half of chunk 2 reached the file before the interruption.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: first.imagePath))
        handle.seekToEndOfFile()
        handle.write(Data(f.image[16384..<20000]))
        try handle.close()

        let resumed = try XCTUnwrap(SnapshotDownload.resume(in: directory))
        XCTAssertEqual(resumed.nextChunk, 2)
        XCTAssertEqual(resumed.header, f.header)
        XCTAssertThrowsError(try resumed.write(chunk: 3, bytes: Array(f.image[24576...])), "a chunk out of order is refused")
        try resumed.write(chunk: 2, bytes: Array(f.image[16384..<24576]))
        try resumed.write(chunk: 3, bytes: Array(f.image[24576...]))
        try resumed.finish(f.trailer)
        XCTAssertEqual(try fileBytes(resumed.imagePath), f.image)
    }

    func testABadFinalChecksumIsNeverInstalled() throws {
        var f = Fixture()
        f.trailer.imageChecksum ^= 1
        let download = try SnapshotDownload.start(f.header, in: directory, extraBytes: 0)
        for i in 0..<4 {
            let start = i * 8192
            try download.write(chunk: UInt64(i), bytes: Array(f.image[start..<(start + f.header.length(ofChunk: UInt64(i)))]))
        }
        XCTAssertThrowsError(try download.finish(f.trailer)) { error in
            guard case SnapshotError.finalChecksumMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: download.imagePath), "the image is discarded")
        XCTAssertNil(SnapshotDownload.resume(in: directory), "and not resumed either")
    }

    func testADownloadThatDoesNotFitFailsWithDiskFull() throws {
        var f = Fixture()
        f = Fixture()
        let huge = SnapshotHeader(
            generation: f.header.generation,
            id: f.header.id,
            txid: 1,
            checksum: 0,
            pageSize: 4096,
            imageLength: SnapshotFormat.maxImageLength
        )
        XCTAssertThrowsError(try SnapshotDownload.start(huge, in: directory, extraBytes: 0)) { error in
            guard case SnapshotError.diskFull(_, let needed, let available) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(needed, SnapshotFormat.maxImageLength)
            XCTAssertLessThan(available, needed)
        }
        XCTAssertNil(SnapshotDownload.resume(in: directory), "nothing is left behind")
    }
}
