import Foundation
import OJSCore

/// How a function's HTTP answer becomes a `DeliveryOutcome`; the rules are the OJS
/// serverless binding's:
///
/// | answer | outcome | job | endpoint |
/// |---|---|---|---|
/// | 2xx `{"status":"completed","result":…}` (or an empty 2xx) | `completed` | ACK | success |
/// | 2xx `{"status":"failed","error":…}` | `failed` | NACK, retry policy | success |
/// | 202 Accepted | `accepted` | stays active for a late receipt | success |
/// | 401, 403, 404 | `disabled` | released (attempt not counted) | disabled |
/// | 429 | `throttled` | released (attempt not counted) | backs off per `Retry-After` |
/// | other 4xx | `rejected` | non-retryable failure | neutral |
/// | 5xx, other status, unreadable receipt, timeout, unreachable | `error` | retryable failure | failure |
extension DeliveryOutcome {
    /// Classifies an HTTP answer. `retryAfter` is the raw header; `now` resolves HTTP dates.
    static func classify(status: Int, body: [UInt8], retryAfter: String?, now: Int64) -> DeliveryOutcome {
        switch status {
        case 202:
            return .accepted
        case 200..<300:
            return receipt(status: status, body: body)
        case 401, 403, 404:
            return .disabled(reason: "the function answered HTTP \(status) (\(statusWord(status)))")
        case 429:
            return .throttled(retryAfterMs: retryAfter.flatMap { RetryAfter.parse($0, now: now) })
        case 400..<500:
            return .rejected(
                JobFailure(
                    code: "push_rejected",
                    type: "push_rejected",
                    message: "The function rejected the delivery with HTTP \(status)\(excerpt(body))",
                    retryable: false,
                    details: ["http_status": .int(Int64(status))]
                )
            )
        default:
            return .error(
                JobFailure(
                    code: "push_error",
                    type: "push_error",
                    message: "The function answered HTTP \(status)\(excerpt(body))",
                    retryable: true,
                    details: ["http_status": .int(Int64(status))]
                )
            )
        }
    }

    /// How much of a function's failure body a job's error keeps. Enough to recognise an error
    /// page ("502 Bad Gateway", a framework's first line), too little to carry a document back:
    /// the answer to a delivery must not become a way to read what the function's host holds.
    static let excerptBytes = 80

    static func excerpt(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        let printable = body.prefix(excerptBytes).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
        let text = String(decoding: printable, as: UTF8.self)
        return ": " + text + (body.count > excerptBytes ? "…" : "")
    }

    static func statusWord(_ status: Int) -> String {
        switch status {
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        default: return "Not Found"
        }
    }
}

extension RetryAfter {
    /// A `Retry-After` value in milliseconds from `now`: delta-seconds (`"3"`, also `"1.5"`)
    /// or an HTTP date, capped at `maxMs`. Nil when unreadable.
    static func parse(_ text: String, now: Int64) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 {
            return min(maxMs, Int64((seconds * 1000).rounded(.up)))
        }
        guard let date = httpDate.date(from: trimmed) else { return nil }
        return min(maxMs, max(0, Int64(date.timeIntervalSince1970 * 1000) - now))
    }

    // IMF-fixdate, the form RFC 9110 requires senders to use.
    private static let httpDate: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f
    }()
}
