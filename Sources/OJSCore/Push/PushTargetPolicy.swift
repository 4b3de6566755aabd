import Foundation

/// Where push deliveries may go: never to an internal address (`IPAddress.isInternal`) unless
/// the operator allowlisted it (`--push-allow-hosts` / `OJS_PUSH_ALLOW_HOSTS`), so a client
/// that may bind a queue cannot make the primary POST job bodies to the cloud metadata
/// service, a database on the private network or the server's own loopback ports, and read
/// the answer back in a job's error.
///
/// An allowlist entry is a host name (matched exactly, case-insensitively, before any DNS)
/// or an address range in CIDR form (`127.0.0.0/8`, `::1`, `10.1.2.3/32`).
///
///     let policy = PushTargetPolicy(allow: ["127.0.0.0/8"])
///     policy.refusal(host: "fn.internal", addresses: [IPAddress("10.0.0.5")!])
///     // "fn.internal resolves to 10.0.0.5, an internal address"
///     policy.refusal(host: "127.0.0.1", addresses: [IPAddress("127.0.0.1")!])   // nil
public struct PushTargetPolicy: Sendable, Equatable {
    public var hosts: Set<String>
    public var ranges: [CIDR]

    public init(hosts: Set<String> = [], ranges: [CIDR] = []) {
        self.hosts = Set(hosts.map { $0.lowercased() })
        self.ranges = ranges
    }

    /// Parses allowlist entries; throws on one that is neither a CIDR nor a plausible host name.
    public init(allow entries: [String]) throws(OJSError) {
        var hosts: Set<String> = []
        var ranges: [CIDR] = []
        for raw in entries {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            if let range = CIDR(entry) {
                ranges.append(range)
            } else if !entry.contains("/"), entry.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "@") }) {
                hosts.insert(entry.lowercased())
            } else {
                throw OJSError.invalid("Push allowlist entry '\(entry)' is neither a host name nor a CIDR range.", field: "push_allow_hosts")
            }
        }
        self.init(hosts: hosts, ranges: ranges)
    }

    /// Whether the host is allowlisted by name, so no address check applies.
    public func allowsHost(_ host: String) -> Bool {
        hosts.contains(Self.bare(host).lowercased())
    }

    /// Why a delivery to `host`, which resolved to `addresses`, must not be made; nil when it
    /// may. Every address must pass: a name with one public and one internal address is
    /// refused, since the connection may use either.
    public func refusal(host: String, addresses: [IPAddress]) -> String? {
        if allowsHost(host) { return nil }
        guard !addresses.isEmpty else { return "\(Self.bare(host)) does not resolve to any address" }
        for address in addresses where address.isInternal && !ranges.contains(where: { $0.contains(address) }) {
            let name = Self.bare(host)
            let what = IPAddress(name) != nil ? "\(name) is" : "\(name) resolves to \(address),"
            return "\(what) an internal address (loopback, private, link-local, unspecified or multicast); allow it with --push-allow-hosts"
        }
        return nil
    }

    static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}
