/// Why a data directory could not change roles. Nothing has been changed when one of these is
/// thrown, except for `.io`, which can come from any step (each step is safe to run again).
public enum CopyPromotionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// There is no copy to promote or no database to demote (`reason` says what is missing).
    case noCopy(String)
    /// Another process (a server) has the directory's replication log open.
    case inUse(String)
    /// The copy's position, its relay log and its database name different transactions.
    case disagree(String)
    /// The file the database would be renamed to exists already.
    case targetExists(path: String)
    /// A file or SQLite operation failed.
    case io(String)

    public var description: String {
        switch self {
        case .noCopy(let why): return "no verified copy: \(why)"
        case .inUse(let why): return "the data directory is in use: \(why)"
        case .disagree(let why): return "the copy's pieces disagree: \(why)"
        case .targetExists(let path): return "\(path) exists already"
        case .io(let why): return why
        }
    }
}
