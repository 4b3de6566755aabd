import OJSStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The in-process readers-writer lock around a replica database.
///
/// `PageApplier` writes pages underneath SQLite's pager, so SQLite's own file locks only keep
/// readers out while the applier's `BEGIN EXCLUSIVE` is held; a reader that is already inside
/// a read transaction would make that BEGIN wait or fail with SQLITE_BUSY. Every reader
/// therefore wraps each whole read transaction in `withReadLock`, and the applier takes
/// `withWriteLock` for a whole batch, so readers see a batch entirely or not at all.
///
/// On Linux the lock prefers writers: with glibc's default (reader preference) a steady
/// stream of overlapping readers could starve replication indefinitely.
public final class ReplicaLock: @unchecked Sendable {
    // @unchecked: the pthread_rwlock_t lives at a stable heap address (never moved, as
    // pthread objects require) and is only touched through pthread calls, which synchronize.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    public init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        #if os(Linux)
        pthread_rwlockattr_setkind_np(&attr, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        let rc = pthread_rwlock_init(lock, &attr)
        pthread_rwlockattr_destroy(&attr)
        // Only fails on resource exhaustion (EAGAIN/ENOMEM) for a process-private lock;
        // continuing without a working lock would silently break isolation.
        precondition(rc == 0, "pthread_rwlock_init failed: \(rc)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    /// Runs `body` while holding the lock shared. Not reentrant: don't nest, and don't take
    /// the write lock from inside (a writer-preferring rwlock would deadlock).
    public func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let rc = pthread_rwlock_rdlock(lock)
        precondition(rc == 0, "pthread_rwlock_rdlock failed: \(rc)")
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Runs `body` while holding the lock exclusively.
    public func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let rc = pthread_rwlock_wrlock(lock)
        precondition(rc == 0, "pthread_rwlock_wrlock failed: \(rc)")
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// Replica readers take the read side around each read transaction.
extension ReplicaLock: OJSStore.ReadGate {}
