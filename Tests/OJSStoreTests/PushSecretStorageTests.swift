import CSQLite
import Foundation
import OJSCore
import XCTest

@testable import OJSStore

/// Push secrets are stored sealed, reopen with the key, and get sealed or resealed at start.
final class PushSecretStorageTests: StoreTestCase {
    static let secret = "whsec-known-secret-0123456789"

    func storedSecret(_ queue: String) throws -> String {
        let db = try Connection(path: directory.appendingPathComponent("ojs.db").path, options: .init(readOnly: true))
        var value = ""
        try db.query("SELECT secret FROM push_endpoints WHERE queue = ?", [.text(queue)]) { value = $0.text(0) }
        return value
    }

    func testABindingStoresOnlyCiphertextAndOpensWithTheStoresKey() async throws {
        let endpoint = try await store.bindPushEndpoint(PushEndpointConfig(queue: "emails", url: "https://fn.example.com/", secret: Self.secret))
        XCTAssertEqual(endpoint.config.maskedSecret, "****", "a sealed secret shows nothing")
        let stored = try storedSecret("emails")
        XCTAssertTrue(SecretSealer.isSealed(stored))
        XCTAssertFalse(stored.contains(Self.secret))
        XCTAssertEqual(try store.openSecret(endpoint.config), Self.secret)
    }

    func testPlaintextAndOldKeySecretsAreResealedUnderTheCurrentKey() async throws {
        let old = SecretSealer.generateKey()
        let path = directory.appendingPathComponent("ojs.db").path
        store.close()
        var config = StoreConfiguration(path: path)
        config.secretSealer = try SecretSealer(key: old)
        store = try Store(configuration: config, clock: clock.function)
        try await store.bindPushEndpoint(PushEndpointConfig(queue: "a", url: "https://fn.example.com/a", secret: Self.secret))
        try await store.bindPushEndpoint(PushEndpointConfig(queue: "b", url: "https://fn.example.com/b", secret: Self.secret))
        // A row from before sealing existed.
        let db = try Connection(path: path)
        _ = try db.run("UPDATE push_endpoints SET secret = ? WHERE queue = 'b'", [.text("plain-" + Self.secret)])
        store.close()

        let new = SecretSealer.generateKey()
        config.secretSealer = try SecretSealer(key: new, previous: [old])
        store = try Store(configuration: config, clock: clock.function)
        let first = try await store.resealPushSecrets()
        let second = try await store.resealPushSecrets()
        XCTAssertEqual(first, Store.ResealReport(resealed: 2, unopenable: []))
        XCTAssertEqual(second.resealed, 0, "nothing left to reseal")
        for (queue, expected) in [("a", Self.secret), ("b", "plain-" + Self.secret)] {
            XCTAssertFalse(try storedSecret(queue).contains(Self.secret))
            let loaded = try await store.pushEndpoint(queue: queue)
            let endpoint = try XCTUnwrap(loaded)
            XCTAssertEqual(try store.openSecret(endpoint.config), expected)
        }
        store.close()
        config.secretSealer = try SecretSealer(key: new)
        store = try Store(configuration: config, clock: clock.function)
        let loaded = try await store.pushEndpoint(queue: "a")
        let a = try XCTUnwrap(loaded)
        XCTAssertEqual(try store.openSecret(a.config), Self.secret, "after resealing the old key is no longer needed")
    }

    func testKeyFileIsCreatedPrivateAndReused() throws {
        let path = directory.appendingPathComponent("secret.key").path
        let first = try SecretKeyFile.loadOrCreate(path: path)
        XCTAssertEqual(first.count, 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(try SecretKeyFile.loadOrCreate(path: path), first, "the same key on the next start")
        chmod(path, 0o644)
        XCTAssertThrowsError(try SecretKeyFile.loadOrCreate(path: path), "a key others can read is refused")
    }

    func testASecretUnderAnUnknownKeyIsReportedNotFatal() async throws {
        try await store.bindPushEndpoint(PushEndpointConfig(queue: "lost", url: "https://fn.example.com/", secret: Self.secret))
        let path = directory.appendingPathComponent("ojs.db").path
        store.close()
        var config = StoreConfiguration(path: path)
        config.secretSealer = try SecretSealer(key: SecretSealer.generateKey())
        store = try Store(configuration: config, clock: clock.function)
        let report = try await store.resealPushSecrets()
        XCTAssertEqual(report, Store.ResealReport(resealed: 0, unopenable: ["lost"]))
        let loaded = try await store.pushEndpoint(queue: "lost")
        XCTAssertThrowsError(try store.openSecret(try XCTUnwrap(loaded).config))
    }
}
