import Foundation
import Hummingbird
import OJSCore
import OJSStore

/// Job-shaped responses.
enum JobRendering {
    /// `{"job": {...}}` plus any extra top-level fields.
    static func job(
        _ job: JobSnapshot,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:],
        extra: (inout JSONWriter) -> Void = { _ in }
    )
        -> Response
    {
        JSONResponse.object(status, headers: headers) { w in
            w.key("job")
            job.write(into: &w)
            extra(&w)
        }
    }

    /// Writes `"name": [job, job, …]`.
    static func list(_ name: String, _ jobs: [JobSnapshot], into w: inout JSONWriter) {
        w.key(name)
        w.raw("[")
        for (i, job) in jobs.enumerated() {
            if i > 0 { w.raw(",") }
            job.write(into: &w)
        }
        w.raw("]")
    }
}

/// Query-string helpers.
extension Request {
    func queryInt(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = uri.queryParameters[Substring(name)].map(String.init), !text.isEmpty else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw OJSError.invalid("Query parameter '\(name)' must be an integer between \(range.lowerBound) and \(range.upperBound).", field: name)
        }
        return n
    }

    func queryString(_ name: String) -> String? {
        guard let s = uri.queryParameters[Substring(name)].map(String.init), !s.isEmpty else { return nil }
        return s
    }

    /// A comma-separated list parameter.
    func queryList(_ name: String) -> [String] {
        queryString(name)?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
    }
}
