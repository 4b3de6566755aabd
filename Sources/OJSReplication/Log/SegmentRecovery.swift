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
/// one. Damage anywhere else means the files were changed outside the log, and opening fails
/// rather than silently dropping transactions.
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
        var live: [(firstTxid: TxID, path: String)] = []

        // First drop files that hold nothing of this history: empty files (a crash right after
        // creating a segment) and segments of another generation (a reset interrupted after it
        // wrote the new generation but before it deleted every old segment).
        for (firstTxid, path) in named {
            let fd = try SegmentIO.openFile(path, O_RDONLY)
            defer { SegmentIO.closeFile(fd) }
            let size = try SegmentIO.size(fd, path: path)
            var stale = size == 0
            if !stale, size >= RecordCodec.headerSize {
                let head = try SegmentIO.read(fd, count: RecordCodec.headerSize, at: 0, path: path)
                if let header = try? RecordCodec.peekHeader(head[...]), header.generation != generation {
                    stale = true
                }
            }
            if stale {
                try SegmentIO.removeFile(path)
                directoryChanged = true
            } else {
                live.append((firstTxid, path))
            }
        }

        var expectedTxid: TxID?
        var expectedPrevious: UInt32?
        if let oldest = live.first {
            guard oldest.firstTxid > startsAfter else {
                throw ReplicationLogError.corruptSegment(
                    file: oldest.path,
                    offset: 0,
                    reason: "starts at txid \(oldest.firstTxid), but the history starts after \(startsAfter)"
                )
            }
            if oldest.firstTxid == startsAfter &+ 1 { expectedPrevious = startChecksum }
        }
        for (index, file) in live.enumerated() {
            let isNewest = index == live.count - 1
            if let expectedTxid, file.firstTxid != expectedTxid {
                throw ReplicationLogError.corruptSegment(
                    file: file.path,
                    offset: 0,
                    reason: "starts at txid \(file.firstTxid), expected \(expectedTxid)"
                )
            }
            let scan = try scanSegment(
                path: file.path,
                firstTxid: file.firstTxid,
                expectedPrevious: expectedPrevious,
                generation: generation,
                isNewest: isNewest
            )
            if scan.truncatedBytes > 0 {
                result.truncatedBytes += scan.truncatedBytes
                directoryChanged = true
            }
            guard let segment = scan.segment else {
                // Only the newest segment can come out empty: its one record was torn.
                try SegmentIO.removeFile(file.path)
                continue
            }
            expectedTxid = segment.lastTxid &+ 1
            expectedPrevious = segment.lastChecksum
            result.segments.append(segment)
        }
        if directoryChanged { try SegmentIO.syncDirectory(directory) }
        return result
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
