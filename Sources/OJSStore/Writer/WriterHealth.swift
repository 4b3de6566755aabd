import Dispatch
import Foundation

/// Checkpoint attempts by outcome since the writer started: `ok` (the WAL was copied into the
/// database and can start over), `busy` (a reader still needs frames; tried again later),
/// `error` (anything else, for example an I/O error).
public struct CheckpointOutcomes: Sendable, Equatable {
    public var ok = 0
    public var busy = 0
    public var error = 0
}

/// What the writer thread records as it goes; read by `Writer.health`.
struct WriterProgress: Sendable {
    /// When the batch in progress was taken (uptime nanoseconds); nil while idle.
    var busySince: UInt64?
    /// When the oldest request of the batch in progress was queued.
    var inFlightQueuedAt: UInt64?
    /// When the last batch (or exclusive item) finished.
    var lastFinishedAt = DispatchTime.now().uptimeNanoseconds
    var checkpoints = CheckpointOutcomes()
}

/// A point-in-time view of the single writer, for metrics and health: how much waits, how long
/// the oldest request has waited, when a batch last finished, and the WAL's size on disk.
public struct WriterHealth: Sendable {
    /// Requests queued and not yet taken into a transaction.
    public var queueDepth: Int
    /// A batch is being executed right now.
    public var busy: Bool
    /// Age of the oldest request not yet answered (queued or in the running batch); 0 if none.
    public var oldestWaitingMs: Int
    /// Time since the writer last finished a batch.
    public var sinceLastBatchMs: Int
    public var checkpoints: CheckpointOutcomes
    /// The `-wal` file's size; 0 when there is none.
    public var walBytes: Int64

    /// Whether work waits and the writer has finished no batch for `stallMs`: it is stuck (a
    /// hung fsync, a runaway transaction), not merely idle.
    public func isStalled(afterMs stallMs: Int) -> Bool {
        (queueDepth > 0 || busy) && oldestWaitingMs >= stallMs && sinceLastBatchMs >= stallMs
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }
}
