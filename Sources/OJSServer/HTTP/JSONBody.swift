import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import OJSCore

/// Reads a request body as JSON, enforcing the size limit and the content type. Swift's
/// frameworks do not know the `+json` media type, so the bytes are parsed here directly.
enum JSONBody {
    /// The decoded body; an empty body is `{}` when `emptyIsObject` (body-less POSTs such as
    /// pause/resume), otherwise `400 invalid_payload`.
    static func read(_ request: Request, limit: Int, emptyIsObject: Bool = false) async throws -> JSONValue {
        try decode(try await raw(request, limit: limit), of: request, emptyIsObject: emptyIsObject)
    }

    /// Parses a body already read with `raw`.
    static func decode(_ bytes: ByteBuffer, of request: Request, emptyIsObject: Bool = false) throws -> JSONValue {
        if bytes.readableBytes == 0 {
            if emptyIsObject { return .object(JSONObject()) }
            throw OJSError(.invalidPayload, "Request body is empty; a JSON object is required.")
        }
        try checkContentType(request)
        do {
            let value = try bytes.withUnsafeReadableBytes { raw throws(JSONParseError) in
                try JSONParser.parse(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
            }
            return value
        } catch {
            throw OJSError(.invalidPayload, "Request body is not valid JSON: \(error).")
        }
    }

    /// A body that must be a JSON object.
    static func object(_ request: Request, limit: Int, emptyIsObject: Bool = false) async throws -> JSONValue {
        try requireObject(try await read(request, limit: limit, emptyIsObject: emptyIsObject))
    }

    static func requireObject(_ value: JSONValue) throws -> JSONValue {
        guard case .object = value else {
            throw OJSError(.invalidPayload, "Request body must be a JSON object, got \(value.typeName).")
        }
        return value
    }

    static func raw(_ request: Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge(limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        } catch let error as HTTPParserError {
            // A broken chunked encoding or framing: the client's bytes, not our failure.
            throw OJSError(.invalidPayload, "The request body is malformed: \(error).")
        }
    }

    static func tooLarge(_ limit: Int) -> OJSError {
        OJSError(.payloadTooLarge, "Request body exceeds the limit of \(limit) bytes.", details: ["limit": .int(Int64(limit))])
    }

    static func checkContentType(_ request: Request) throws {
        guard let type = request.headers[.contentType] else { return }
        let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if media.isEmpty || media == "application/json" || media == MediaTypes.ojs || media.hasSuffix("+json") { return }
        throw OJSError(.invalidRequest, "Unsupported Content-Type '\(type)'; send application/openjobspec+json or application/json.")
    }
}
