import HTTPTypes
import Hummingbird
import NIOCore
import OJSCore

/// Builds JSON responses. Every body is `application/openjobspec+json`; the middleware adds
/// the version and request-id headers.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = MediaTypes.ojs
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A response whose body object is written field by field.
    static func object(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ build: (inout JSONWriter) -> Void) -> Response {
        var w = JSONWriter()
        w.beginObject()
        build(&w)
        w.endObject()
        return make(status, bytes: w.bytes, headers: headers)
    }

    static func value(_ status: HTTPResponse.Status = .ok, _ value: JSONValue) -> Response {
        make(status, bytes: JSONWriter.bytes(value))
    }

    static func empty(_ status: HTTPResponse.Status) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = MediaTypes.ojs
        return Response(status: status, headers: fields)
    }

    /// The OJS error body: `{"error":{"code","type","message","retryable",…}}`.
    static func error(_ error: OJSError, requestId: String) -> Response {
        make(error.httpStatus, bytes: errorBytes(error, requestId: requestId), headers: error.responseFields)
    }

    /// The error body alone, for the connection guard, which answers below the router.
    static func errorBytes(_ error: OJSError, requestId: String) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("error")
        w.beginObject()
        w.field("code", error.code.rawValue)
        w.field("type", error.code.rawValue)
        w.field("message", error.message)
        w.field("retryable", error.retryable)
        if !error.details.isEmpty { w.field("details", .object(error.details)) }
        w.field("request_id", requestId)
        w.field("hint", error.code.hint)
        w.field("docs_url", "https://openjobspec.org/errors/\(error.code.rawValue)")
        w.endObject()
        w.endObject()
        return w.bytes
    }
}
