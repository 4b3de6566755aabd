/// What each connection of an HTTP run does in one operation.
enum Scenario: CustomStringConvertible {
    /// A GET with no work behind it: the HTTP ceiling (`/ojs/manifest`, `/ojs/v1/health`).
    case get(String)
    /// `POST /ojs/v1/jobs`, one job.
    case push
    /// `POST /ojs/v1/jobs/batch` with this many jobs.
    case batch(Int)
    /// Push this many jobs (one push, or one batch), fetch them with `count` = this many,
    /// ack each one: the job's whole life.
    case cycle(Int)
    /// `GET /ojs/v1/jobs/:id` over ids pushed before the run.
    case status

    init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "get" where parts.count == 2: self = .get(parts[1])
        case "push": self = .push
        case "batch": self = .batch(parts.count == 2 ? Int(parts[1]) ?? 100 : 100)
        case "cycle": self = .cycle(parts.count == 2 ? Int(parts[1]) ?? 1 : 1)
        case "status": self = .status
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .get(let path): "get:\(path)"
        case .push: "push"
        case .batch(let n): "batch:\(n)"
        case .cycle(let n): "cycle:\(n)"
        case .status: "status"
        }
    }
}
