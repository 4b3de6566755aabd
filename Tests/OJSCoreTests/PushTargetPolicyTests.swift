import Foundation
import OJSCore
import XCTest

/// Which addresses a push delivery may reach (`PushTargetPolicy`, `IPAddress`, `CIDR`).
final class PushTargetPolicyTests: XCTestCase {
    func testInternalAddressesAreRecognised() throws {
        let internalAddresses = [
            "127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0",
            "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::5", "ff02::1",
            "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:0a00:0001::1", "[::1]", "fe80::1%eth0",
        ]
        for text in internalAddresses {
            let address = try XCTUnwrap(IPAddress(text), text)
            XCTAssertTrue(address.isInternal, text)
        }
        for text in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:0808:0808::1"] {
            let address = try XCTUnwrap(IPAddress(text), text)
            XCTAssertFalse(address.isInternal, text)
        }
        XCTAssertNil(IPAddress("localhost"))
        XCTAssertNil(IPAddress("300.1.1.1"))
    }

    func testCIDRContainment() throws {
        let range = try XCTUnwrap(CIDR("10.1.0.0/16"))
        XCTAssertTrue(range.contains(try XCTUnwrap(IPAddress("10.1.200.3"))))
        XCTAssertFalse(range.contains(try XCTUnwrap(IPAddress("10.2.0.1"))))
        XCTAssertFalse(range.contains(try XCTUnwrap(IPAddress("::1"))), "families never match")
        XCTAssertTrue(try XCTUnwrap(CIDR("::1")).contains(try XCTUnwrap(IPAddress("::1"))))
        XCTAssertTrue(try XCTUnwrap(CIDR("127.0.0.0/8")).contains(try XCTUnwrap(IPAddress("127.9.9.9"))))
        XCTAssertTrue(try XCTUnwrap(CIDR("172.16.0.0/12")).contains(try XCTUnwrap(IPAddress("172.20.1.1"))))
        XCTAssertNil(CIDR("10.0.0.0/33"))
        XCTAssertNil(CIDR("example.com/8"))
    }

    func testRefusalsAndTheAllowlist() throws {
        let closed = PushTargetPolicy()
        let metadata = try XCTUnwrap(IPAddress("169.254.169.254"))
        XCTAssertNotNil(closed.refusal(host: "169.254.169.254", addresses: [metadata]))
        let sneaky = closed.refusal(host: "fn.example.com", addresses: [try XCTUnwrap(IPAddress("93.184.216.34")), metadata])
        XCTAssertTrue(sneaky?.contains("resolves to 169.254.169.254") == true, "one internal address among public ones is enough: \(sneaky ?? "")")
        XCTAssertNotNil(closed.refusal(host: "nowhere.invalid", addresses: []), "a name that does not resolve is refused")
        XCTAssertNil(closed.refusal(host: "fn.example.com", addresses: [try XCTUnwrap(IPAddress("93.184.216.34"))]))

        let open = try PushTargetPolicy(allow: ["127.0.0.0/8", " fn.internal ", "::1"])
        XCTAssertNil(open.refusal(host: "127.0.0.1", addresses: [try XCTUnwrap(IPAddress("127.0.0.1"))]))
        XCTAssertNil(open.refusal(host: "[::1]", addresses: [try XCTUnwrap(IPAddress("::1"))]))
        XCTAssertNil(open.refusal(host: "FN.internal", addresses: []), "an allowlisted name needs no address check")
        XCTAssertNotNil(open.refusal(host: "10.0.0.1", addresses: [try XCTUnwrap(IPAddress("10.0.0.1"))]), "only what is listed opens")
        XCTAssertThrowsError(try PushTargetPolicy(allow: ["10.0.0.0/99"]))
        XCTAssertThrowsError(try PushTargetPolicy(allow: ["user@host"]))
    }
}

/// Sealing push secrets (`SecretSealer`).
final class SecretSealerTests: XCTestCase {
    func testSealOpenAndWhatDoesNotOpen() throws {
        let key = SecretSealer.generateKey()
        let sealer = try SecretSealer(key: key)
        let stored = try sealer.seal("whsec_known_secret", context: "push_endpoints.secret:a")
        XCTAssertTrue(SecretSealer.isSealed(stored))
        XCTAssertFalse(stored.contains("whsec_known_secret"))
        XCTAssertNotEqual(stored, try sealer.seal("whsec_known_secret", context: "push_endpoints.secret:a"), "a fresh nonce each time")
        XCTAssertEqual(try sealer.open(stored, context: "push_endpoints.secret:a"), "whsec_known_secret")
        XCTAssertThrowsError(try sealer.open(stored, context: "push_endpoints.secret:b"), "bound to its row")
        // A character in the middle of the base64 ciphertext: all six of its bits are used.
        var tampered = Array(stored.utf8)
        let middle = stored.utf8.count - 20
        tampered[middle] = tampered[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertThrowsError(try sealer.open(String(decoding: tampered, as: UTF8.self), context: "push_endpoints.secret:a"))
        let other = try SecretSealer(key: SecretSealer.generateKey())
        XCTAssertThrowsError(try other.open(stored, context: "push_endpoints.secret:a"), "another key cannot open it")
        XCTAssertEqual(try sealer.open("legacy-plaintext", context: "x"), "legacy-plaintext", "pre-sealing values open as they are")
        XCTAssertTrue(sealer.needsReseal("legacy-plaintext"))
        XCTAssertFalse(sealer.needsReseal(stored))
    }

    func testRotationOpensWithThePreviousKeyAndReseals() throws {
        let old = SecretSealer.generateKey()
        let stored = try SecretSealer(key: old).seal("s", context: "c")
        let rotated = try SecretSealer(key: SecretSealer.generateKey(), previous: [old])
        XCTAssertTrue(rotated.needsReseal(stored))
        XCTAssertEqual(try rotated.open(stored, context: "c"), "s")
        XCTAssertFalse(rotated.needsReseal(try rotated.seal("s", context: "c")))
    }

    func testKeyParsing() throws {
        let key = SecretSealer.generateKey()
        XCTAssertEqual(try SecretSealer.parseKey(Data(key).base64EncodedString() + "\n"), key)
        XCTAssertThrowsError(try SecretSealer.parseKey("short"))
        XCTAssertThrowsError(try SecretSealer.parseKey(Data(repeating: 1, count: 16).base64EncodedString()))
        XCTAssertThrowsError(try SecretSealer(key: [1, 2, 3]))
    }
}
