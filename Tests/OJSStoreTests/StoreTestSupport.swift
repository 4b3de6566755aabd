import Foundation
import OJSCore
import Synchronization
import XCTest

@testable import OJSStore

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64 = 1_770_892_200_000) { value = Mutex(start) }
    var now: Int64 { value.withLock { $0 } }
    func advance(_ ms: Int64) { value.withLock { $0 += ms } }
    var function: Writer.Clock { { [self] in self.now } }
}

/// A store in a fresh temporary directory, closed and deleted by `tearDown`.
class StoreTestCase: XCTestCase {
    var directory: URL!
    var store: Store!
    let clock = ManualClock()

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path), clock: clock.function)
    }

    override func tearDownWithError() throws {
        store?.close()
        try? FileManager.default.removeItem(at: directory)
    }

    func spec(_ json: String) throws -> JobSpec { try JobSpec.parse(try JSONParser.parse(json), now: clock.now) }

    @discardableResult
    func push(_ json: String) async throws -> JobSnapshot { try await store.enqueue(try spec(json)).job }
}
