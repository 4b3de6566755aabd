import Foundation

/// Environment defaults for options: every flag also reads an `OJS_*` variable.
enum Env {
    /// Read once: `ProcessInfo.environment` rebuilds the whole dictionary on every call, and
    /// `serve` reads some forty variables while starting (8 % of its cold start).
    static let variables = ProcessInfo.processInfo.environment

    static func string(_ name: String) -> String? {
        guard let v = variables[name], !v.isEmpty else { return nil }
        return v
    }

    static func int(_ name: String) -> Int? { string(name).flatMap(Int.init) }

    static func bool(_ name: String) -> Bool {
        guard let v = string(name)?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(v)
    }
}
