import Foundation
import XCTest

/// A test case that hands out temporary directories for replication logs and removes them
/// after each test.
class LogDirectoryTestCase: XCTestCase {
    typealias F = RecordFixtures
    private var directories: [URL] = []

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
        directories = []
        super.tearDown()
    }

    /// A new empty directory, removed when the test ends.
    func newDirectory() -> URL {
        let directory = F.temporaryDirectory()
        directories.append(directory)
        return directory
    }
}
