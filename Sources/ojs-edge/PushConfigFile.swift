import Foundation
import OJSCore

/// The `--push-config` file: `{"endpoints":[{"queue","url","secret",…}]}`, read with the
/// server's own JSON parser so its numbers keep their exact values.
enum PushConfigFile {
    static func load(_ path: String) throws -> [PushEndpointConfig] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(data))
        } catch {
            throw OJSError(.invalidPayload, "not valid JSON: \(error)")
        }
        return try PushEndpointConfig.parseFile(value)
    }
}
