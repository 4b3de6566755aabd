#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as its network-order bytes (4 or 16), and the classification the
/// push-target guard needs: is it somewhere a job server must never send a job to?
///
///     IPAddress("169.254.169.254")?.isInternal   // true (link-local: cloud metadata)
///     IPAddress("::ffff:10.0.0.1")?.isInternal   // true (IPv4-mapped private address)
///     IPAddress("93.184.216.34")?.isInternal     // false
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted IPv4 or textual IPv6 (brackets and a zone such as `%eth0` allowed).
    public init?(_ text: String) {
        var t = Substring(text)
        if t.hasPrefix("["), t.hasSuffix("]") { t = t.dropFirst().dropLast() }
        if let zone = t.firstIndex(of: "%") { t = t[..<zone] }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(t), &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(t), &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var isV4: Bool { bytes.count == 4 }

    public var description: String {
        if isV4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16)) }
        return groups.joined(separator: ":")
    }

    /// The IPv4 address an IPv6 address carries, for the forms that route to it: IPv4-mapped
    /// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4
    /// (`2002:AABB:CCDD::/16`).
    public var embeddedV4: IPAddress? {
        guard !isV4 else { return nil }
        let b = bytes
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return IPAddress(bytes: Array(b[12..<16])) }
        if b[0..<12].allSatisfy({ $0 == 0 }) && !b[12..<16].allSatisfy({ $0 == 0 }) && !(b[12..<15].allSatisfy { $0 == 0 } && b[15] == 1) {
            return IPAddress(bytes: Array(b[12..<16]))
        }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B, b[4..<12].allSatisfy({ $0 == 0 }) { return IPAddress(bytes: Array(b[12..<16])) }
        if b[0] == 0x20, b[1] == 0x02 { return IPAddress(bytes: Array(b[2..<6])) }
        return nil
    }

    /// Loopback, private (RFC 1918, CGNAT, IPv6 ULA), link-local (169.254.0.0/16 with the
    /// cloud metadata address, fe80::/10), unspecified, multicast, broadcast or reserved: not
    /// a public function's address.
    public var isInternal: Bool {
        if let v4 = embeddedV4 { return v4.isInternal }
        return Self.internalRanges.contains { $0.contains(self) }
    }

    static let internalRanges: [CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ].compactMap { CIDR($0) }
}

/// An address range, `address/prefix`; a bare address is its own /32 or /128.
///
///     CIDR("10.0.0.0/8")?.contains(IPAddress("10.1.2.3")!)   // true
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...bits).contains(p) else { return nil }
            prefix = p
        }
        self.network = address
        self.prefix = prefix
    }

    public var description: String { "\(network)/\(prefix)" }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefix
        for (a, n) in zip(address.bytes, network.bytes) where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if a & mask != n & mask { return false }
            remaining -= take
        }
        return true
    }
}
