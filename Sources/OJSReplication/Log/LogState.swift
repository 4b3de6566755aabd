#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A planned read of consecutive records from one segment. The descriptor is opened under the
/// log's lock so retention or reset cannot delete the file first; the read happens outside it.
struct ReadSpan: Sendable {
    let fd: Int32
    let path: String
    let firstTxid: TxID
    /// File offsets of the records to read; the last one ends at `end`.
    let offsets: [Int]
    let end: Int
}

/// Everything `ReplicationLog` guards with its mutex.
struct LogState: Sendable {
    var generation: Generation
    /// The txid this history starts after (see `GenerationFile`), and the chain value there.
    var startsAfter: UInt64
    var startChecksum: UInt32
    /// Oldest first; every segment holds at least one record.
    var segments: [LogSegment]
    var recoveredTailBytes: Int
    var lastTxid: TxID
    var lastChecksum: UInt32
    /// Descriptor for appending to the newest segment, opened lazily.
    var writer: Int32?
    /// Set when a failure leaves the on-disk state uncertain; appends refuse until reopen.
    var broken: String?
    /// 0: fsync every record before `append` returns. Otherwise records written since the last
    /// fsync are synced by the first append (or `syncIfDue`) at least this many ms after the
    /// oldest of them, and always before the segment is closed.
    let syncIntervalMs: Int64
    /// Monotonic time of the oldest record written but not yet fsynced.
    var unsyncedSince: Int64?
    /// The parts of a transaction being appended in several records. Its bytes lie in the
    /// newest segment past `size` until the last part arrives; only then is it indexed, so
    /// readers never see part of a transaction.
    var parts = PartSequence()
    /// End of the open transaction's bytes in the newest segment.
    var openEnd: Int?

    init(
        generation: Generation,
        startsAfter: UInt64,
        startChecksum: UInt32 = 0,
        segments: [LogSegment],
        recoveredTailBytes: Int,
        syncIntervalMs: Int64 = 0
    ) {
        self.syncIntervalMs = syncIntervalMs
        self.generation = generation
        self.startsAfter = startsAfter
        self.startChecksum = startChecksum
        self.segments = segments
        self.recoveredTailBytes = recoveredTailBytes
        self.lastTxid = segments.last?.lastTxid ?? startsAfter
        self.lastChecksum = segments.last?.lastChecksum ?? startChecksum
    }

    var totalBytes: Int { segments.reduce(0) { $0 + $1.size } }

    /// Oldest txid held, 0 when none (a segment holding only the first parts of a
    /// transaction holds no transaction yet).
    var firstTxid: TxID { segments.first.flatMap { $0.holdsTransactions ? $0.firstTxid : nil } ?? 0 }

    /// Indexes segment `index` if the open left it for later (`LogSegment.pendingLastTxid`).
    /// Runs under the log's lock, once per sealed segment for the life of the process.
    mutating func index(_ index: Int) throws {
        guard !segments[index].isIndexed else { return }
        segments[index] = try SegmentRecovery.index(segments[index], generation: generation)
    }

    /// Where transaction `txid`'s records are stored, or nil when it is not in the log.
    mutating func transactionRange(_ txid: TxID) throws -> (path: String, range: Range<Int>)? {
        guard txid <= lastTxid, let oldest = segments.first, oldest.holdsTransactions, txid >= oldest.firstTxid else { return nil }
        let found = segmentIndex(containing: txid)
        try index(found)
        let segment = segments[found]
        guard segment.contains(txid) else { return nil }
        return (segment.path, segment.range(ofRecord: Int(txid - segment.firstTxid)))
    }

    /// Closes the newest segment's descriptor, fsyncing what it has not synced yet (best
    /// effort: a caller that must know uses `syncPending` first).
    mutating func closeWriter() {
        if let writer {
            if unsyncedSince != nil { _ = fsync(writer) }
            SegmentIO.closeFile(writer)
        }
        writer = nil
        unsyncedSince = nil
    }

    /// Fsyncs records written since the last fsync. A failure marks the log unusable: after a
    /// failed fsync the kernel may have dropped the dirty pages while reporting them clean,
    /// and only a reopen (which re-verifies the newest segment) can say what is on disk.
    mutating func syncPending() throws {
        guard unsyncedSince != nil, let writer, let segment = segments.last else { return }
        do {
            try SegmentIO.syncFile(writer, path: segment.path)
        } catch {
            broken = "fsync of \(segment.path) failed"
            throw error
        }
        unsyncedSince = nil
    }

    /// Syncs pending records once the oldest is `syncIntervalMs` old.
    mutating func syncIfDue(now: Int64 = LogState.monotonicMillis()) throws {
        guard let since = unsyncedSince, now - since >= syncIntervalMs else { return }
        try syncPending()
    }

    static func monotonicMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    mutating func append(_ bytes: [UInt8], header: RecordHeader, directory: String, segmentBytes: Int) throws {
        if let broken { throw ReplicationLogError.unusable(broken) }
        guard header.generation == generation else {
            throw ReplicationLogError.generationMismatch(expected: generation, got: header.generation)
        }
        var sequence = parts
        let completes: Bool
        do throws(RecordError) {
            completes = try sequence.accept(header, lastTxid: lastTxid, lastChecksum: lastChecksum)
        } catch .unexpectedTxid(let expected, let got) {
            throw ReplicationLogError.outOfOrder(expected: expected, got: got)
        } catch .chainBroken(let txid, let expected, let found) {
            throw ReplicationLogError.chainBroken(txid: txid, expectedPrevious: expected, found: found)
        } catch {
            throw ReplicationLogError.invalidRecord(error)
        }

        // Roll before the write so segments stay within segmentBytes unless a single
        // transaction is larger on its own. A transaction never spans segments: a segment is
        // named after its first txid and retention deletes whole segments.
        let needsNewSegment = header.part == 0 && (segments.last.map { $0.size + bytes.count > segmentBytes } ?? true)
        var created = false
        if needsNewSegment {
            // Only the newest segment may hold unsynced records: recovery trusts older ones.
            try syncPending()
            closeWriter()
            let path = directory + "/" + LogSegment.fileName(firstTxid: header.txid)
            // O_TRUNC is safe: no segment can hold txids beyond lastTxid, so a file with this
            // name is debris from a failed earlier attempt.
            let fd = try SegmentIO.openFile(path, O_WRONLY | O_CREAT | O_TRUNC)
            do {
                try SegmentIO.syncDirectory(directory)
            } catch {
                SegmentIO.closeFile(fd)
                try? SegmentIO.removeFile(path)
                throw error
            }
            writer = fd
            segments.append(
                LogSegment(
                    firstTxid: header.txid,
                    path: path,
                    offsets: [],
                    size: 0,
                    newestCommitTime: header.commitTime,
                    firstPreviousChecksum: header.previousChecksum,
                    lastChecksum: header.previousChecksum
                )
            )
            created = true
        }
        guard var segment = segments.popLast() else { return }
        var placed = false
        defer { if !placed { if created && segment.offsets.isEmpty { dropEmpty(segment) } else { segments.append(segment) } } }

        let fd: Int32
        if let writer {
            fd = writer
        } else {
            fd = try SegmentIO.openFile(segment.path, O_WRONLY)
            writer = fd
        }
        let offset = openEnd ?? segment.size
        do {
            try SegmentIO.write(fd, bytes, at: offset, path: segment.path)
        } catch {
            // Cut the partial record so the file again ends on a record boundary.
            do {
                try SegmentIO.truncate(fd, to: offset, path: segment.path)
            } catch {
                broken = "could not remove a partial write from \(segment.path)"
            }
            throw error
        }
        if unsyncedSince == nil { unsyncedSince = Self.monotonicMillis() }
        parts = sequence
        if completes {
            // The transaction is part of the log from here; a failed fsync below makes the log
            // unusable.
            segment.offsets.append(segment.size)
            segment.size = offset + bytes.count
            segment.newestCommitTime = max(segment.newestCommitTime, header.commitTime)
            segment.lastChecksum = header.checksum
            lastTxid = header.txid
            lastChecksum = header.checksum
            openEnd = nil
        } else {
            openEnd = offset + bytes.count
        }
        segments.append(segment)
        placed = true
        if syncIntervalMs == 0 { try syncPending() } else { try syncIfDue() }
    }

    /// Removes a segment created for a record whose write then failed, keeping the invariant
    /// that every indexed segment holds records.
    private mutating func dropEmpty(_ segment: LogSegment) {
        closeWriter()
        do {
            try SegmentIO.removeFile(segment.path)
        } catch {
            // The empty file is harmless to recovery, which deletes empty segments.
        }
    }

    mutating func planRead(after txid: TxID, maxBytes: Int) throws -> [ReadSpan] {
        guard txid <= lastTxid else { throw ReplicationLogError.ahead(last: lastTxid) }
        guard txid < lastTxid else { return [] }
        // Empty but past txid 0: the history started after `lastTxid`, and anything older
        // belongs to the previous one.
        guard let oldest = segments.first else { throw ReplicationLogError.trimmed(oldestAvailable: lastTxid + 1) }
        guard txid >= oldest.firstTxid - 1 else { throw ReplicationLogError.trimmed(oldestAvailable: oldest.firstTxid) }

        var next = txid + 1
        var taken = 0
        var spans: [ReadSpan] = []
        var index = segmentIndex(containing: next)
        do {
            scan: while index < segments.count {
                try self.index(index)
                let segment = segments[index]
                // The newest segment may hold only the first parts of a transaction.
                if segment.offsets.isEmpty { break scan }
                let firstRecord = Int(next - segment.firstTxid)
                var offsets: [Int] = []
                var end = segment.offsets[firstRecord]
                for record in firstRecord..<segment.offsets.count {
                    let range = segment.range(ofRecord: record)
                    if taken > 0 && taken + range.count > maxBytes { break }
                    offsets.append(range.lowerBound)
                    end = range.upperBound
                    taken += range.count
                }
                if offsets.isEmpty { break scan }
                let fd = try SegmentIO.openFile(segment.path, O_RDONLY)
                spans.append(ReadSpan(fd: fd, path: segment.path, firstTxid: next, offsets: offsets, end: end))
                next += UInt64(offsets.count)
                if firstRecord + offsets.count < segment.offsets.count { break scan }
                index += 1
            }
        } catch {
            for span in spans { SegmentIO.closeFile(span.fd) }
            throw error
        }
        return spans
    }

    mutating func checksum(at txid: TxID) throws -> UInt32 {
        if txid == lastTxid { return lastChecksum }
        guard txid < lastTxid else { throw ReplicationLogError.ahead(last: lastTxid) }
        guard let oldest = segments.first, oldest.holdsTransactions else { throw ReplicationLogError.trimmed(oldestAvailable: lastTxid + 1) }
        if txid == oldest.firstTxid - 1 { return oldest.firstPreviousChecksum }
        guard txid >= oldest.firstTxid else { throw ReplicationLogError.trimmed(oldestAvailable: oldest.firstTxid) }
        // The chain value after `txid` is what the next transaction's first record chains
        // from (a transaction's own first record may be only one of its parts).
        let following = txid + 1
        let found = segmentIndex(containing: following)
        try index(found)
        let segment = segments[found]
        let offset = segment.offsets[Int(following - segment.firstTxid)]
        let fd = try SegmentIO.openFile(segment.path, O_RDONLY)
        defer { SegmentIO.closeFile(fd) }
        let head = try SegmentIO.read(fd, count: RecordCodec.headerSize, at: offset, path: segment.path)
        do {
            let header = try RecordCodec.peekHeader(head[...])
            guard header.txid == following, header.part == 0 else {
                throw RecordError.malformedHeader("record is txid \(header.txid) part \(header.part), expected \(following) part 0")
            }
            return header.previousChecksum
        } catch let error as RecordError {
            throw ReplicationLogError.corruptSegment(file: segment.path, offset: offset, reason: "\(error)")
        }
    }

    /// Index of the segment holding `txid`, which the caller has checked is within the log.
    private func segmentIndex(containing txid: TxID) -> Int {
        var low = 0
        var high = segments.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if segments[mid].firstTxid <= txid { low = mid } else { high = mid - 1 }
        }
        return low
    }
}
