/// A file of the operator console, compiled into the binary: no build step, no CDN, nothing
/// fetched from another origin, so the console works on an air-gapped node and a strict
/// Content-Security-Policy (`default-src 'self'`) holds.
///
///     ConsoleAsset.named("core.js")?.contentType  // "text/javascript; charset=utf-8"
struct ConsoleAsset: Sendable {
    let name: String
    let contentType: String
    let body: String

    /// The page shell, served at `/ojs/admin/`.
    static let page = ConsoleAsset(name: "index.html", contentType: "text/html; charset=utf-8", body: ConsolePage.html)

    static let javascript = "text/javascript; charset=utf-8"

    /// Scripts load in this order: `core.js` defines `OJS`, each page registers itself, and
    /// `core.js` routes once the document has loaded (every script is `defer`).
    static let scripts: [ConsoleAsset] = [
        ConsoleAsset(name: "core.js", contentType: javascript, body: ConsoleCoreScript.source),
        ConsoleAsset(name: "charts.js", contentType: javascript, body: ConsoleChartScript.source),
        ConsoleAsset(name: "overview.js", contentType: javascript, body: ConsoleOverviewScript.source),
        ConsoleAsset(name: "jobs.js", contentType: javascript, body: ConsoleJobsScript.source),
        ConsoleAsset(name: "dead-letter.js", contentType: javascript, body: ConsoleDeadLetterScript.source),
        ConsoleAsset(name: "operations.js", contentType: javascript, body: ConsoleOperationsScript.source),
    ]

    static let all: [ConsoleAsset] = [ConsoleAsset(name: "console.css", contentType: "text/css; charset=utf-8", body: ConsoleStyle.css)] + scripts

    static func named(_ name: String) -> ConsoleAsset? { all.first { $0.name == name } }
}
