import HTTPTypes
import Hummingbird
import NIOCore
import OJSCore

/// The operator console's routes. Paths are defined once here; `AccessPolicy` opens them
/// (the shell and its files hold no data: every number comes from API calls that need the
/// key), and `CanonicalPath` allows the one trailing slash of `/ojs/admin/`.
///
///     GET /ojs/admin/                  the page shell
///     GET /ojs/admin/assets/core.js    a script or the stylesheet
///     GET /ojs/admin, /ojs/dashboard   302 to /ojs/admin/ (a browser keeps the #key= fragment)
enum ConsolePaths {
    static let root = "/ojs/admin/"
    static let bare = "/ojs/admin"
    static let assets = "/ojs/admin/assets/"
    /// The old dashboard's address, kept as a redirect so bookmarks still work.
    static let dashboard = "/ojs/dashboard"

    /// One file directly under `assets/` (the canonical-path check has already refused `..`).
    static func isAsset(_ path: String) -> Bool {
        path.hasPrefix(assets) && path.count > assets.count && !path.dropFirst(assets.count).contains("/")
    }
}

extension OJSAPI {
    func addConsoleRoutes(_ router: Router<Context>) {
        // The router skips empty segments, so `/ojs/admin` and `/ojs/admin/` both arrive here.
        router.get(RouterPath(ConsolePaths.bare)) { request, _ in
            guard request.uri.path == ConsolePaths.root else { return Self.redirect(to: ConsolePaths.root) }
            return Self.serve(ConsoleAsset.page)
        }
        router.get(RouterPath(ConsolePaths.assets + ":name")) { _, context in
            let name = try Self.parameter(context, "name")
            guard let asset = ConsoleAsset.named(name) else { throw OJSError.notFound("console file", name) }
            return Self.serve(asset)
        }
        router.get(RouterPath(ConsolePaths.dashboard)) { _, _ in Self.redirect(to: ConsolePaths.root) }
    }

    static func serve(_ asset: ConsoleAsset) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        // Served from memory and changed only with the binary: no-cache keeps a browser from
        // running one release's script against the next release's API after an upgrade.
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: asset.body)))
    }

    static func redirect(to location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .found, headers: headers)
    }
}
