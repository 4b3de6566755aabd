import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The primary's durable log of encoded transaction records, kept in segment files
/// `<directory>/<first txid, 20 digits>.ojsr` so replicas can catch up from any retained
/// position. Every method is safe to call from any thread; appends are serialized, and reads
/// copy bytes outside the lock so a slow replica never stalls the commit path.
public final class ReplicationLog: Sendable {
    public let directory: URL
    public let segmentBytes: Int
    public let retentionBytes: Int
    public let retentionAgeMs: Int64
    /// 0: every record is fsynced before `append` returns. Otherwise fsyncs are batched: a
    /// record is synced at most this long after it was appended while appends continue, by
    /// `syncIfDue`, and always before its segment is closed. The database stays the source
    /// of truth: a primary that restarts with a log that does not end at the database's
    /// position (lost tail after a power failure) starts a new generation.
    public let syncIntervalMs: Int64

    /// 16 MiB: a segment is the unit of retention, so the log overshoots its byte bound by
    /// at most one segment.
    public static let defaultSegmentBytes = 16 << 20
    /// 256 MiB of history lets a replica that was away catch up without a snapshot.
    public static let defaultRetentionBytes = 256 << 20
    /// A day, like the primary's default retention of finished jobs.
    public static let defaultRetentionAgeMs: Int64 = 24 * 3_600_000
    /// 100 ms of batched fsyncs: the database is the source of truth, so a lost log tail costs
    /// a new generation, not data (`docs/replication-protocol.md`).
    public static let defaultSyncIntervalMs: Int64 = 100

    private let path: String
    private let generationPath: String
    private let state: Mutex<LogState>
    /// Descriptor of `<directory>/lock`, holding a POSIX record lock for this instance's life:
    /// a second process (a server, `ojs-edge promote`) opening the same log fails with
    /// `.inUse` instead of appending beside it. POSIX locks belong to the process, so a
    /// process may open its own log twice (tests do), and the kernel drops the lock when the
    /// process dies, even by kill -9.
    private let lockDescriptor: Int32

    /// The lock file's name inside the log directory.
    public static let lockFileName = "lock"
    /// The file naming the log's history (`GenerationFile`).
    static let generationFileName = "generation"

    /// The history the log in `directory` belongs to, read without opening the log (no lock, no
    /// recovery); nil when there is no readable generation file.
    public static func storedGeneration(in directory: URL) -> Generation? {
        try? GenerationFile.read(at: directory.appendingPathComponent(generationFileName).path).generation
    }

    /// Opens (creating if needed) the log in `directory`, recovering from a crash: a torn
    /// record at the end of the newest segment is truncated so appends continue cleanly.
    public init(
        directory: URL,
        segmentBytes: Int = defaultSegmentBytes,
        retentionBytes: Int = defaultRetentionBytes,
        retentionAgeMs: Int64 = defaultRetentionAgeMs,
        syncIntervalMs: Int64 = defaultSyncIntervalMs
    ) throws {
        guard syncIntervalMs >= 0 else { throw ReplicationLogError.badConfiguration("syncIntervalMs must not be negative") }
        guard segmentBytes > 0 else { throw ReplicationLogError.badConfiguration("segmentBytes must be positive") }
        guard retentionBytes >= 0, retentionAgeMs >= 0 else {
            throw ReplicationLogError.badConfiguration("retention limits must not be negative")
        }
        guard let path = directory.withUnsafeFileSystemRepresentation({ $0.map { String(cString: $0) } }),
            !path.isEmpty
        else {
            throw ReplicationLogError.badConfiguration("directory \(directory) has no file system path")
        }
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.retentionBytes = retentionBytes
        self.retentionAgeMs = retentionAgeMs
        self.syncIntervalMs = syncIntervalMs
        self.path = path
        self.generationPath = path + "/" + Self.generationFileName

        try SegmentIO.makeDirectories(path)
        lockDescriptor = try Self.lock(path + "/" + Self.lockFileName)
        let file: GenerationFile
        if SegmentIO.exists(generationPath) {
            file = try GenerationFile.read(at: generationPath)
        } else {
            guard try SegmentRecovery.segmentFiles(in: path).isEmpty else {
                // Guessing would risk serving records under the wrong history.
                throw ReplicationLogError.generationFileMissing(path: generationPath)
            }
            file = GenerationFile(generation: .random(), startsAfter: 0)
            try file.write(to: generationPath, directory: path)
        }
        let recovered: SegmentRecovery.Result
        do {
            recovered = try SegmentRecovery.recover(
                directory: path,
                generation: file.generation,
                startsAfter: file.startsAfter,
                startChecksum: file.startChecksum
            )
        } catch {
            SegmentIO.closeFile(lockDescriptor)
            throw error
        }
        state = Mutex(
            LogState(
                generation: file.generation,
                startsAfter: file.startsAfter,
                startChecksum: file.startChecksum,
                segments: recovered.segments,
                recoveredTailBytes: recovered.truncatedBytes,
                syncIntervalMs: syncIntervalMs
            )
        )
    }

    deinit {
        state.withLock { $0.closeWriter() }
        SegmentIO.closeFile(lockDescriptor)
    }

    /// Takes the directory's lock without waiting (see `lockDescriptor`).
    private static func lock(_ lockPath: String) throws -> Int32 {
        let fd = try SegmentIO.openFile(lockPath, O_RDWR | O_CREAT)
        guard lockf(fd, F_TLOCK, 0) == 0 else {
            let code = errno
            SegmentIO.closeFile(fd)
            if code == EAGAIN || code == EACCES { throw ReplicationLogError.inUse(lock: lockPath) }
            throw ReplicationLogError.io(operation: "lockf", path: lockPath, errno: code)
        }
        return fd
    }

    // MARK: - Stats

    public var generation: Generation { state.withLock { $0.generation } }
    /// Oldest txid still held, or 0 when the log holds no records.
    public var firstTxid: TxID { state.withLock { $0.firstTxid } }
    /// Newest txid appended; for a history with nothing appended yet, the txid it starts after
    /// (0 for a brand-new one).
    public var lastTxid: TxID { state.withLock { $0.lastTxid } }
    /// Chain value after `lastTxid` (0 for a fresh history).
    public var lastChecksum: UInt32 { state.withLock { $0.lastChecksum } }
    public var totalBytes: Int { state.withLock { $0.totalBytes } }
    public var segmentCount: Int { state.withLock { $0.segments.count } }
    /// Bytes of torn tail cut off when this instance opened the log (0 after a clean shutdown).
    public var recoveredTailBytes: Int { state.withLock { $0.recoveredTailBytes } }

    public struct Stats: Sendable, Equatable {
        public var generation: Generation
        public var firstTxid: TxID
        public var lastTxid: TxID
        public var lastChecksum: UInt32
        public var totalBytes: Int
        public var segmentCount: Int
    }

    /// All stats from one consistent moment.
    public var stats: Stats {
        state.withLock {
            Stats(
                generation: $0.generation,
                firstTxid: $0.firstTxid,
                lastTxid: $0.lastTxid,
                lastChecksum: $0.lastChecksum,
                totalBytes: $0.totalBytes,
                segmentCount: $0.segments.count
            )
        }
    }

    // MARK: - Writing

    /// Appends the next transaction (fsynced before returning, or within `syncIntervalMs`). It must be
    /// `lastTxid + 1`, of this log's generation, and chain from `lastChecksum`.
    public func append(_ encoded: EncodedRecord) throws {
        guard encoded.kind.carriesPages else { throw ReplicationLogError.notTransaction }
        // Re-verify outside the lock: cheap next to the fsync, and it keeps a corrupted buffer
        // from ever reaching disk where it would be served to every replica.
        let header: RecordHeader
        do {
            header = try RecordCodec.peekHeader(encoded.bytes[...])
            guard encoded.bytes.count == header.recordLength, header.txid == encoded.txid,
                header.checksum == encoded.checksum
            else {
                throw RecordError.malformedHeader("encoded record fields disagree with its bytes")
            }
            try RecordCodec.verifyChecksum(encoded.bytes[...], header: header)
        } catch let error as RecordError {
            throw ReplicationLogError.invalidRecord(error)
        }
        try state.withLock { state in
            try state.append(encoded.bytes, header: header, directory: path, segmentBytes: segmentBytes)
        }
    }

    /// Fsyncs records appended since the last fsync (at shutdown, or for a caller that needs
    /// them on disk now).
    public func sync() throws {
        try state.withLock { try $0.syncPending() }
    }

    /// Fsyncs pending records whose batching interval has passed: called periodically so the
    /// last records before writes stop do not wait for the kernel's own writeback.
    public func syncIfDue() throws {
        try state.withLock { try $0.syncIfDue() }
    }

    /// Starts a history `generation` whose first transaction will be `lastTxid + 1`, chaining
    /// from `checksum` (`lastTxid` 0 and checksum 0: a history from txid 1).
    ///
    /// A new generation is persisted first, then every segment is deleted; if that is
    /// interrupted, reopening finishes it (segments of another generation are dropped on open),
    /// and until then this instance refuses appends. The same generation (a replica's relay log
    /// restarting at a snapshot's position in the history it already follows) deletes the
    /// segments first, oldest first, and only then rewrites the start: an interruption leaves a
    /// retention-trimmed suffix of the old history, which the caller sees does not end where it
    /// wanted and resets again.
    public func reset(generation: Generation, lastTxid: TxID = 0, checksum: UInt32 = 0) throws {
        try state.withLock { state in
            state.closeWriter()
            state.parts = PartSequence()
            state.openEnd = nil
            let file = GenerationFile(generation: generation, startsAfter: lastTxid, startChecksum: checksum)
            let sameGeneration = generation == state.generation
            if !sameGeneration {
                try file.write(to: generationPath, directory: path)
                state.generation = generation
            }
            state.broken = "reset to \(generation) did not finish deleting old segments"
            while let oldest = state.segments.first {
                try SegmentIO.removeFile(oldest.path)
                state.segments.removeFirst()
            }
            try SegmentIO.syncDirectory(path)
            // Debris of a transaction whose parts were being appended: not in `segments`.
            for name in try SegmentIO.list(path) where name.hasSuffix(LogSegment.suffix) {
                try SegmentIO.removeFile(path + "/" + name)
            }
            if sameGeneration { try file.write(to: generationPath, directory: path) }
            state.startsAfter = lastTxid
            state.startChecksum = checksum
            state.lastTxid = lastTxid
            state.lastChecksum = checksum
            state.broken = nil
        }
    }

    /// Deletes whole segments from the oldest while the log is larger than `retentionBytes` or
    /// the segment's newest record is more than `retentionAgeMs` older than `now` — never the
    /// newest segment, so the log never forgets its position. Returns the segments deleted.
    @discardableResult
    public func applyRetention(now: Int64) throws -> Int {
        try state.withLock { state in
            var removed = 0
            var failure: (any Error)?
            var total = state.totalBytes
            while state.segments.count > 1 {
                if total <= retentionBytes {
                    // Only an indexed segment knows its commit times; one over the byte bound
                    // goes without being read.
                    do {
                        try state.index(0)
                    } catch {
                        failure = error
                        break
                    }
                    let newest = state.segments[0].newestCommitTime
                    let (age, overflow) = now.subtractingReportingOverflow(newest)
                    guard overflow ? now > newest : age > retentionAgeMs else { break }
                }
                let oldest = state.segments[0]
                // Readers that already planned a read hold their own descriptors; unlinking
                // does not pull the bytes out from under them.
                do {
                    try SegmentIO.removeFile(oldest.path)
                } catch {
                    failure = error
                    break
                }
                state.segments.removeFirst()
                total -= oldest.size
                removed += 1
            }
            // Make the deletions that did happen durable even if a later one failed.
            if removed > 0 { try SegmentIO.syncDirectory(path) }
            if let failure { throw failure }
            return removed
        }
    }

    // MARK: - Reading

    /// Raw encoded records with txid > `txid`, in order, stopping before `maxBytes` would be
    /// exceeded (but always at least one record when any is available). Empty when the
    /// position is current. Throws `.trimmed` when records after `txid` are no longer retained
    /// (re-bootstrap from a snapshot) and `.ahead` when `txid` is past the end of the log.
    public func records(after txid: TxID, maxBytes: Int) throws -> [EncodedRecord] {
        let plan = try state.withLock { state in try state.planRead(after: txid, maxBytes: maxBytes) }
        defer { for span in plan { SegmentIO.closeFile(span.fd) } }
        var out: [EncodedRecord] = []
        out.reserveCapacity(plan.reduce(0) { $0 + $1.offsets.count })
        for span in plan {
            try Self.read(span, into: &out)
        }
        return out
    }

    /// The chain checksum after transaction `txid` — what a snapshot taken at `txid` records so a
    /// replica can verify the first streamed record. 0 for txid 0.
    public func checksum(at txid: TxID) throws -> UInt32 {
        try state.withLock { state in try state.checksum(at: txid) }
    }

    // MARK: - Helpers

    /// Byte length of transaction `txid` (all its records), or nil when it is not in the log.
    public func transactionLength(_ txid: TxID) -> Int? {
        // A segment that fails its first indexing reads as absent here; the read that follows
        // reports the damage.
        state.withLock { (try? $0.transactionRange(txid))?.range.count }
    }

    /// Up to `maxBytes` of transaction `txid`'s stored bytes, starting `offset` bytes into it:
    /// how a stream sends a transaction larger than one read without holding it whole. The
    /// window may end inside a record; the receiver's decoder reassembles and verifies.
    public func transactionBytes(_ txid: TxID, from offset: Int, maxBytes: Int) throws -> (bytes: [UInt8], total: Int) {
        let (fd, path, range) = try state.withLock { state -> (Int32, String, Range<Int>) in
            guard let found = try state.transactionRange(txid) else {
                if txid > state.lastTxid { throw ReplicationLogError.ahead(last: state.lastTxid) }
                throw ReplicationLogError.trimmed(oldestAvailable: state.firstTxid)
            }
            return (try SegmentIO.openFile(found.path, O_RDONLY), found.path, found.range)
        }
        defer { SegmentIO.closeFile(fd) }
        let start = range.lowerBound + max(0, min(offset, range.count))
        let count = min(max(1, maxBytes), range.upperBound - start)
        let bytes = try SegmentIO.read(fd, count: count, at: start, path: path)
        guard bytes.count == count else {
            throw ReplicationLogError.corruptSegment(file: path, offset: start + bytes.count, reason: "file shorter than its index")
        }
        return (bytes, range.count)
    }

    /// Splits a span's bytes into records, verifying each checksum, the chain between them
    /// and that they form whole transactions (`PartSequence`) starting at `span.firstTxid`.
    private static func read(_ span: ReadSpan, into out: inout [EncodedRecord]) throws {
        guard let start = span.offsets.first else { return }
        let bytes = try SegmentIO.read(span.fd, count: span.end - start, at: start, path: span.path)
        guard bytes.count == span.end - start else {
            throw ReplicationLogError.corruptSegment(file: span.path, offset: start + bytes.count, reason: "file shorter than its index")
        }
        var sequence = PartSequence()
        var lastTxid = span.firstTxid &- 1
        var chain: UInt32?
        var offset = start
        while offset < span.end {
            let slice = bytes[(offset - start)...]
            do {
                let header = try RecordCodec.peekHeader(slice)
                guard header.recordLength <= slice.count else {
                    throw RecordError.malformedHeader("record at offset \(offset) runs past its transaction")
                }
                let record = slice.prefix(header.recordLength)
                // Bit rot is caught here rather than by each replica separately.
                try RecordCodec.verifyChecksum(record, header: header)
                if try sequence.accept(header, lastTxid: lastTxid, lastChecksum: chain ?? header.previousChecksum) {
                    lastTxid = header.txid
                    chain = header.checksum
                }
                out.append(EncodedRecord(bytes: Array(record), header: header))
                offset += header.recordLength
            } catch let error as RecordError {
                throw ReplicationLogError.corruptSegment(file: span.path, offset: offset, reason: "\(error)")
            }
        }
        if let open = sequence.open {
            throw ReplicationLogError.corruptSegment(
                file: span.path,
                offset: offset,
                reason: "\(RecordError.incompleteTransaction(txid: open.txid, partsReceived: Int(open.nextPart)))"
            )
        }
    }
}
