import Foundation
import XCTest

@testable import OJSReplication

/// The primary's kept images: the transfer limit, resuming a kept image, expiry, and the
/// clean-up of files an earlier process left.
final class SnapshotImagesTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "snapshot-images-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// An "image" of a few bytes written where the store asks.
    func make(_ id: SnapshotID, _ path: String) async throws -> SnapshotImage {
        FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 4096))
        let header = SnapshotHeader(generation: .random(), id: id, txid: 1, checksum: 0, pageSize: 4096, imageLength: 4096)
        return SnapshotImage(header: header, imageChecksum: 0, path: path)
    }

    func testStartupDeletesLeftoverImages() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/old.image", contents: Data([1, 2, 3]))
        _ = try SnapshotImages(directory: directory)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }

    func testTransfersPastTheLimitAreRefusedAndAKeptImageResumes() async throws {
        var limits = SnapshotImages.Limits()
        limits.maxConcurrent = 2
        limits.retryAfterSeconds = 7
        limits.keepMs = 100
        let images = try SnapshotImages(directory: directory, limits: limits)
        let first = try await images.open(resume: nil, make: make)
        let second = try await images.open(resume: nil, make: make)
        do {
            _ = try await images.open(resume: nil, make: make)
            XCTFail("a third transfer was allowed")
        } catch let error as SnapshotError {
            XCTAssertEqual(error, .busy(retryAfterSeconds: 7))
        }
        XCTAssertEqual(images.activeTransfers, 2)

        // The first transfer ends (interrupted): its image can be resumed, not a random one.
        images.release(first.header.id)
        do {
            _ = try await images.open(resume: .random(), make: make)
            XCTFail("an unknown image was resumed")
        } catch let error as SnapshotError {
            guard case .unknownSnapshot = error else { return XCTFail("\(error)") }
        }
        let resumed = try await images.open(resume: first.header.id, make: make)
        XCTAssertEqual(resumed.path, first.path)
        XCTAssertEqual(images.imageCount, 2, "resuming made no new image")

        // Once no transfer reads them, both images expire and their files go.
        images.release(resumed.header.id)
        images.release(second.header.id)
        let deadline = Date().addingTimeInterval(10)
        while images.imageCount > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertEqual(images.imageCount, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
        XCTAssertEqual(images.activeTransfers, 0)
    }
}
