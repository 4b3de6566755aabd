import Hummingbird
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The push ceiling of issue 20: the fastest a Hummingbird route can answer on this machine.
///
/// Push NORMAL should reach at least 0.50 × this server's requests/s in the same suite run.
/// Measuring both in one run removes the machine (and the other engineers' builds sharing its
/// 2 cores) from the ratio. It has one route, `GET /`, answering `{"status":"ok"}` as JSON, with
/// no middleware and the logger at `error`, so it costs only what Hummingbird itself costs:
/// HTTP/1.1 parsing, routing and writing one small response.
///
/// Usage: `hello-ceiling --port N` (binds 127.0.0.1; default port 8090).
@main
struct HelloCeiling {
    /// Port when `--port` is absent: beside the suite's other servers, never used by them.
    static let defaultPort = 8090

    static func main() async throws {
        let port: Int
        do {
            port = try parsePort(CommandLine.arguments)
        } catch {
            let message = error.description + "\n"
            _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
            exit(2)
        }
        var logger = Logger(label: "hello-ceiling")
        logger.logLevel = .error
        let router = Router()
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#))
            )
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            logger: logger
        )
        try await app.runService()
    }

    /// Bad command line: the suite calls this program, so a plain message and exit code 2 are enough.
    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads `--port N` by hand: one option does not justify a dependency on an argument parser.
    static func parsePort(_ arguments: [String]) throws(UsageError) -> Int {
        var port = defaultPort
        var index = 1
        while index < arguments.count {
            switch arguments[index] {
            case "--port":
                guard index + 1 < arguments.count, let value = Int(arguments[index + 1]), (1...65535).contains(value) else {
                    throw UsageError(description: "usage: hello-ceiling [--port N]  (N in 1...65535)")
                }
                port = value
                index += 2
            default:
                throw UsageError(description: "usage: hello-ceiling [--port N]; unknown argument \(arguments[index])")
            }
        }
        return port
    }
}
