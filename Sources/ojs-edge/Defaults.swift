import OJSServer
import OJSStore

/// The configuration types' defaults, which every option falls back to: each default is
/// written once, in its configuration type, and the CLI reads it from there.
enum Defaults {
    static let server = ServerConfiguration()
    static let store = StoreConfiguration(path: "")
}
