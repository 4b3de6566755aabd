import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OJSCore
import OJSReplication
import OJSServer
import OJSStore
import PropertyBased
import Testing

/// Random and mutated requests to every endpoint. Whatever arrives, the server answers with
/// a status below 500 and, for errors, the OJS error body; it stays healthy; and jobs that
/// existed before are byte-for-byte the same after.
///
/// `OJS_FUZZ_COUNT` sets the number of requests (2,000 by default; the long run uses more).
@Suite struct FuzzTests {
    static var count: Int { Int(ProcessInfo.processInfo.environment["OJS_FUZZ_COUNT"] ?? "") ?? 2000 }

    @Test func everyEndpointSurvivesRandomAndMutatedRequests() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ojs-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path))
        defer { store.close() }
        var seeded: [String] = []
        for i in 0..<5 {
            let spec = try JobSpec.parse(
                try JSONParser.parse(#"{"type":"kept.job","args":[\#(i)],"options":{"queue":"kept-queue"}}"#),
                now: store.clock()
            )
            seeded.append(try await store.enqueue(spec).job.id)
        }
        let kept = seeded

        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        let replication = try await ReplicationSource.attach(to: store, directory: directory.appendingPathComponent("replication"), logger: logger)
        try await TestApp.run(store: store, replication: replication, configure: { $0.testMode = false }) { client in
            let before = try await Self.bodies(of: kept, client)
            let tally = Tally()
            await propertyCheck(count: Self.count, input: FuzzRequest.generator) { request in
                guard let method = HTTPRequest.Method(request.method) else { return }
                var headers = HTTPFields()
                for (name, value) in request.headers {
                    if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
                }
                let response: TestResponse
                do {
                    response = try await client.execute(
                        uri: request.path,
                        method: method,
                        headers: headers,
                        body: request.body.map { ByteBuffer(bytes: $0) }
                    )
                } catch {
                    Issue.record("the request failed below HTTP: \(error) for \(request)")
                    return
                }
                tally.add(response.status.code)
                #expect(response.status.code < 500, "\(response.status) for \(request): \(String(buffer: response.body).prefix(300))")
                if response.status.code >= 400 && request.method != "HEAD" {
                    let body = try? JSONParser.parse(String(buffer: response.body))
                    #expect(body?["error"]?["code"]?.stringValue != nil, "no OJS error body for \(request)")
                    #expect(body?["error"]?["retryable"]?.boolValue != nil, "no retryable flag for \(request)")
                }
            }
            let health = try await client.execute(uri: "/ojs/v1/health", method: .get)
            #expect(health.status == .ok)
            let after = try await Self.bodies(of: kept, client)
            #expect(before == after, "a job that existed before the fuzz changed")
            print("fuzz: \(Self.count) requests, statuses \(tally.summary)")
        }
    }

    static func bodies(of ids: [String], _ client: any TestClientProtocol) async throws -> [String] {
        var out: [String] = []
        for id in ids { out.append(String(buffer: try await client.execute(uri: "/ojs/v1/jobs/\(id)", method: .get).body)) }
        return out
    }
}

/// Status counts, for the run's summary line.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [UInt: Int] = [:]
    func add(_ status: Int) { lock.withLock { counts[UInt(status), default: 0] += 1 } }
    var summary: String { lock.withLock { counts.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ") } }
}
