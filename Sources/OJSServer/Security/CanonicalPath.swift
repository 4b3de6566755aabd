import Hummingbird
import OJSCore

/// Refuses any request whose path has more than one spelling, before authentication and
/// routing see it.
///
/// Hummingbird's router skips empty segments, so `//ojs/v1/jobs` and `/ojs//v1/jobs` reach the
/// same handler as `/ojs/v1/jobs`; an access check that reads the raw path would see another
/// path than the router. Rather than normalise and hope every layer agrees, a path that is not
/// already canonical is answered `400 invalid_request`, so exactly one spelling of each route
/// exists. Canonical means:
///
/// - it starts with `/` and has no empty segment (`//`, or a trailing `/` after a segment),
///   except the console's root `/ojs/admin/`;
/// - no segment is `.` or `..`;
/// - no percent-encoding of a character that changes how a path splits or resolves:
///   `/` (`%2F`), `.` (`%2E`), `\` (`%5C`), `%` itself (`%25`, double encoding) or a control
///   character (`%00`–`%1F`, `%7F`); and no raw `\` or control character.
///
/// Other percent-encodings stay allowed: a worker id or cron name may legitimately hold a
/// space or a colon.
///
///     CanonicalPath.problem("/ojs/v1/jobs")      // nil
///     CanonicalPath.problem("/ojs//v1/jobs")     // "an empty path segment"
///     CanonicalPath.problem("/ojs/v1/%2e%2e/x")  // "an encoded '.'"
public enum CanonicalPath {
    /// Why `path` is not canonical, or nil when it is.
    public static func problem(_ path: String) -> String? {
        // The console's root is a directory (its pages' relative links resolve under it): the
        // one path whose canonical spelling ends in '/'.
        if path == ConsolePaths.root { return nil }
        let bytes = Array(path.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return "a path that does not start with '/'" }
        if bytes.count == 1 { return nil }
        var segmentStart = 1
        var i = 1
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == UInt8(ascii: "/") {
                let segment = bytes[segmentStart..<i]
                if segment.isEmpty { return "an empty path segment" }
                if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) { return "a '.' or '..' segment" }
                segmentStart = i + 1
            } else {
                let b = bytes[i]
                if b < 0x20 || b == 0x7F { return "a control character" }
                if b == UInt8(ascii: "\\") { return "a backslash" }
                if b == UInt8(ascii: "%") {
                    guard i + 2 < bytes.count, let hi = Hex.nibble(bytes[i + 1]), let lo = Hex.nibble(bytes[i + 2]) else {
                        return "a malformed percent-encoding"
                    }
                    let decoded = hi << 4 | lo
                    switch decoded {
                    case UInt8(ascii: "/"): return "an encoded '/'"
                    case UInt8(ascii: "."): return "an encoded '.'"
                    case UInt8(ascii: "\\"): return "an encoded backslash"
                    case UInt8(ascii: "%"): return "an encoded '%'"
                    case 0..<0x20, 0x7F: return "an encoded control character"
                    default: break
                    }
                    i += 2
                }
            }
            i += 1
        }
        return nil
    }
}

/// Answers a non-canonical path with `400 invalid_request` before anything else reads it:
/// installed right after the error-rendering middleware on both roles, so neither the access
/// check, the router nor a replica's forwarder ever sees a second spelling.
struct CanonicalPathMiddleware: RouterMiddleware {
    typealias Context = OJSRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let problem = CanonicalPath.problem(request.uri.path) {
            throw OJSError(.invalidRequest, "The request path is not canonical: it has \(problem). Send each path exactly as documented.")
        }
        return try await next(request, context)
    }
}
