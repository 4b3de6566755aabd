import AsyncHTTPClient
import Foundation
import OJSCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Applies `PushTargetPolicy` to a function URL: resolves its host and refuses internal
/// addresses, when a queue is bound (`PUT /ojs/v1/admin/push-endpoints/{queue}`, `serve
/// --push-config`) and again before every delivery, because DNS answers change after binding.
///
/// For `http://` deliveries the connection is pinned to the address that was checked (the URL
/// names it, `Host` keeps the name), so a name that re-resolves between the check and the
/// connection (DNS rebinding) still cannot reach an internal address. `https://` deliveries
/// are checked but not pinned: certificate validation needs the name, and a rebound name
/// would have to present a valid certificate for it from the internal address.
public struct PushTargetGuard: Sendable {
    public let policy: PushTargetPolicy

    /// How long a lookup may take before the URL counts as unresolvable (resolv.conf's default
    /// is 5 s per server and try; a binding request should not hang that long).
    static let resolveTimeout = Duration.seconds(3)

    public init(policy: PushTargetPolicy) {
        self.policy = policy
    }

    /// The URL to connect to, with the `Host` header it then needs, or why not to connect.
    public struct Target: Sendable, Equatable {
        public var url: String
        public var hostHeader: String?
    }

    /// Checks `url` at binding time: a refusal is the client's mistake (400, field `url`).
    public func checkBinding(_ url: String) async throws(OJSError) {
        if case .failure(let why) = await vet(url) {
            throw OJSError.invalid("Field 'url' is not an allowed push target: \(why).", field: "url")
        }
    }

    /// Resolves and checks `url`; on success the target to connect to.
    public func vet(_ url: String) async -> Result<Target, Refusal> {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            return .failure(Refusal("the URL has no host"))
        }
        let scheme = components.scheme?.lowercased() ?? ""
        if policy.allowsHost(host) { return .success(Target(url: url, hostHeader: nil)) }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            addresses = await Self.resolve(host)
        }
        if let why = policy.refusal(host: host, addresses: addresses) { return .failure(Refusal(why)) }
        guard scheme == "http", IPAddress(host) == nil, let pinned = addresses.first else { return .success(Target(url: url, hostHeader: nil)) }
        var rewritten = components
        rewritten.host = pinned.isV4 ? pinned.description : "[\(pinned.description)]"
        guard let pinnedURL = rewritten.string else { return .success(Target(url: url, hostHeader: nil)) }
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        return .success(Target(url: pinnedURL, hostHeader: hostHeader))
    }

    /// Why a target was refused.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Every address `host` resolves to (empty when it does not resolve in time). getaddrinfo
    /// blocks, so it runs on a Dispatch thread, never on the cooperative pool.
    static func resolve(_ host: String) async -> [IPAddress] {
        await withTaskGroup(of: [IPAddress]?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume(returning: getaddrinfoAddresses(host)) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: resolveTimeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? []
        }
    }

    static func getaddrinfoAddresses(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var out: [IPAddress] = []
        var cursor = result
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                switch Int32(sa.pointee.sa_family) {
                case AF_INET:
                    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        var a = sin.pointee.sin_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &a) { Array($0) }) { out.append(ip) }
                    }
                case AF_INET6:
                    sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        var a = sin6.pointee.sin6_addr
                        if let ip = IPAddress(bytes: withUnsafeBytes(of: &a) { Array($0) }) { out.append(ip) }
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        var seen = Set<IPAddress>()
        return out.filter { seen.insert($0).inserted }
    }
}
