#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rebuilds the segment index when a log is opened, repairing what a crash can leave behind.
///
/// A segment is fsynced before the next one is created, so a crash can only damage the newest
/// segment: the record being written, or — when fsyncs are batched (`syncIntervalMs`) — any
/// record written since its last fsync, in any order the kernel wrote pages back. Every record
/// of the newest segment is therefore checksummed, and the segment is cut at the first damaged
/// one. Older segments are only opened: their first header must start where the file name
/// says, and the rest of each is read and checked when the log first needs its index
/// (`LogState.index`), so a start reads a few headers rather than every header of the log.
/// Damage anywhere but the newest segment means the files were changed outside the log:
/// opening fails when a first header shows it, and otherwise the first read of that segment.
enum SegmentRecovery {
    struct Result {
        var segments: [LogSegment]
        /// Bytes cut from the newest segment's torn tail.
        var truncatedBytes: Int
    }

    /// - Parameter startsAfter: the txid the history starts after; no segment may begin at or
    ///   before it, and a segment beginning right after it must chain from `startChecksum`.
    static func recover(directory: String, generation: Generation, startsAfter: UInt64, startChecksum: UInt32 = 0) throws -> Result {
        let named = try segmentFiles(in: directory)
        var result = Result(segments: [], truncatedBytes: 0)
        var directoryChanged = false
        var live: [(firstTxid: TxID, path: String, size: Int, head: RecordHeader?)] = []

        // First drop files that hold nothing of this history: empty files (a crash right after
        // creating a segment) and segments of another generation (a reset interrupted after it
        // wrote the new generation but before it deleted every old segment).
        for (firstTxid, path) in named {
            let fd = try SegmentIO.openFile(path, O_RDONLY)
            defer { SegmentIO.closeFile(fd) }
            let size = try SegmentIO.size(fd, path: path)
            var stale = size == 0
            var head: RecordHeader?
            if !stale, size >= RecordCodec.headerSize {
                let bytes = try SegmentIO.read(fd, count: RecordCodec.headerSize, at: 0, path: path)
                head = try? RecordCodec.peekHeader(bytes[...])
                if let head, head.generation != generation { stale = true }
            }
            if stale {
                try SegmentIO.removeFile(path)
                directoryChanged = true
            } else {
                live.append((firstTxid, path, size, head))
            }
        }

        if let oldest = live.first {
            guard oldest.firstTxid > startsAfter else {
                throw ReplicationLogError.corruptSegment(
                    file: oldest.path,
                    offset: 0,
                    reason: "starts at txid \(oldest.firstTxid), but the history starts after \(startsAfter)"
                )
            }
        }
        /// What the segment at `index` must chain from, when the log says (the first of the history).
        func expectedPrevious(_ index: Int) -> UInt32? {
            index == 0 && live[index].firstTxid == startsAfter &+ 1 ? startChecksum : nil
        }

        // The newest segment is scanned whole. When its only record was torn it goes, and the
        // one before is the newest: sealed, so checked strictly, and indexed for appends.
        var newest: LogSegment?
        var isNewestFile = true
        while newest == nil, let last = live.last {
            let scan = try scanSegment(
                path: last.path,
                firstTxid: last.firstTxid,
                expectedPrevious: expectedPrevious(live.count - 1),
                generation: generation,
                isNewest: isNewestFile
            )
            isNewestFile = false
            if scan.truncatedBytes > 0 {
                result.truncatedBytes += scan.truncatedBytes
                directoryChanged = true
            }
            live.removeLast()
            guard let segment = scan.segment else {
                // Only the newest segment can come out empty: its one record was torn.
                try SegmentIO.removeFile(last.path)
                directoryChanged = true
                continue
            }
            newest = segment
        }
        guard let newest else {
            if directoryChanged { try SegmentIO.syncDirectory(directory) }
            return result
        }

        // Older segments: the first header only. Each must hold txids up to where the next
        // begins and end on the chain value the next one starts from.
        var next = (firstTxid: newest.firstTxid, previous: newest.firstPreviousChecksum)
        var older: [LogSegment] = []
        for (index, file) in live.enumerated().reversed() {
            guard let head = file.head else {
                throw ReplicationLogError.corruptSegment(file: file.path, offset: 0, reason: "unreadable first record header")
            }
            let problem: String?
            if !head.kind.carriesPages {
                problem = "holds a \(head.kind) record"
            } else if head.txid != file.firstTxid || head.part != 0 {
                problem = "first record is txid \(head.txid) part \(head.part), expected \(file.firstTxid) part 0"
            } else if let expected = expectedPrevious(index), head.previousChecksum != expected {
                problem = "first record chains from \(head.previousChecksum), expected \(expected)"
            } else {
                problem = nil
            }
            if let problem { throw ReplicationLogError.corruptSegment(file: file.path, offset: 0, reason: problem) }
            older.append(
                LogSegment(
                    firstTxid: file.firstTxid,
                    path: file.path,
                    offsets: [],
                    size: file.size,
                    newestCommitTime: head.commitTime,
                    firstPreviousChecksum: head.previousChecksum,
                    lastChecksum: next.previous,
                    pendingLastTxid: next.firstTxid - 1
                )
            )
            next = (file.firstTxid, head.previousChecksum)
        }
        result.segments = older.reversed() + [newest]
        if directoryChanged { try SegmentIO.syncDirectory(directory) }
        return result
    }

    /// Builds a sealed segment's index (see `LogSegment.pendingLastTxid`), checking every header
    /// and that the segment ends where the next one begins.
    static func index(_ segment: LogSegment, generation: Generation) throws -> LogSegment {
        guard let expectedLast = segment.pendingLastTxid else { return segment }
        let scan = try scanSegment(
            path: segment.path,
            firstTxid: segment.firstTxid,
            expectedPrevious: segment.firstPreviousChecksum,
            generation: generation,
            isNewest: false
        )
        guard let indexed = scan.segment, indexed.lastTxid == expectedLast, indexed.lastChecksum == segment.lastChecksum else {
            throw ReplicationLogError.corruptSegment(
                file: segment.path,
                offset: scan.segment?.size ?? 0,
                reason: "ends at txid \(scan.segment?.lastTxid ?? segment.firstTxid - 1), but the next segment starts after \(expectedLast)"
                    + " chaining from \(segment.lastChecksum)"
            )
        }
        return indexed
    }

    /// Segment files in txid order.
    static func segmentFiles(in directory: String) throws -> [(firstTxid: TxID, path: String)] {
        try SegmentIO.list(directory)
            .compactMap { name in LogSegment.parseFileName(name).map { ($0, directory + "/" + name) } }
            .sorted { $0.0 < $1.0 }
    }

    private struct Scan {
        var segment: LogSegment?
        var truncatedBytes = 0
    }

    private static func scanSegment(
        path: String,
        firstTxid: TxID,
        expectedPrevious: UInt32?,
        generation: Generation,
        isNewest: Bool
    ) throws -> Scan {
        let fd = try SegmentIO.openFile(path, isNewest ? O_RDWR : O_RDONLY)
        defer { SegmentIO.closeFile(fd) }
        let size = try SegmentIO.size(fd, path: path)

        var offsets: [Int] = []
        var newest = Int64.min
        var firstPrevious: UInt32 = 0
        var chain = expectedPrevious
        var offset = 0
        var damage: String?
        var sequence = PartSequence()
        /// Start of the transaction whose parts are being read, and the end of the last
        /// complete transaction: a torn tail is cut back to a transaction boundary.
        var transactionStart = 0
        var completeEnd = 0

        while offset < size {
            // Wrapping: a hostile file name near UInt64.max must fail the txid check, not trap.
            let txid = firstTxid &+ UInt64(offsets.count)
            guard size - offset >= RecordCodec.headerSize else {
                damage = "partial header"
                break
            }
            let head = try SegmentIO.read(fd, count: RecordCodec.headerSize, at: offset, path: path)
            let header: RecordHeader
            do {
                header = try RecordCodec.peekHeader(head[...])
            } catch {
                damage = "\(error)"
                break
            }
            guard offset + header.recordLength <= size else {
                damage = "partial record"
                break
            }
            if isNewest {
                // Unsynced records may be half on disk behind a plausible header; only the
                // checksum can tell.
                let whole = try SegmentIO.read(fd, count: header.recordLength, at: offset, path: path)
                do {
                    try RecordCodec.verifyChecksum(whole[...], header: header)
                } catch {
                    damage = "\(error)"
                    break
                }
            }
            // An intact record that does not continue the log cannot come from a crash.
            let problem: String?
            var completes = false
            if !header.kind.carriesPages {
                problem = "holds a \(header.kind) record"
            } else if header.generation != generation {
                problem = "record of generation \(header.generation)"
            } else if header.txid != txid {
                problem = "record txid \(header.txid), expected \(txid)"
            } else {
                do {
                    completes = try sequence.accept(header, lastTxid: txid &- 1, lastChecksum: chain ?? header.previousChecksum)
                    problem = nil
                } catch {
                    problem = "\(error)"
                }
            }
            if let problem { throw ReplicationLogError.corruptSegment(file: path, offset: offset, reason: problem) }

            if offsets.isEmpty && header.part == 0 { firstPrevious = header.previousChecksum }
            if header.part == 0 { transactionStart = offset }
            offset += header.recordLength
            if completes {
                offsets.append(transactionStart)
                newest = max(newest, header.commitTime)
                chain = header.checksum
                completeEnd = offset
            }
        }
        if damage == nil, sequence.isOpen {
            // The last transaction's parts stop short of its last part: the capture was cut
            // off (a crash between appends). It never became visible; drop it.
            damage = "incomplete transaction at the end"
        }
        if damage != nil { offset = completeEnd }

        var scan = Scan()
        if let damage {
            guard isNewest else { throw ReplicationLogError.corruptSegment(file: path, offset: offset, reason: damage) }
            try SegmentIO.truncate(fd, to: offset, path: path)
            try SegmentIO.syncFile(fd, path: path)
            scan.truncatedBytes = size - offset
        }
        if let chain, !offsets.isEmpty {
            scan.segment = LogSegment(
                firstTxid: firstTxid,
                path: path,
                offsets: offsets,
                size: offset,
                newestCommitTime: newest,
                firstPreviousChecksum: firstPrevious,
                lastChecksum: chain
            )
        }
        return scan
    }
}
