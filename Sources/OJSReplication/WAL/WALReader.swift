#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call while reading the WAL. Invalid WAL *content* is never an error: it is
/// the end of valid data, as it is for SQLite's own recovery.
public enum WALReaderError: Error, Sendable, Equatable, CustomStringConvertible {
    case open(path: String, errno: Int32)
    case stat(path: String, errno: Int32)
    case read(path: String, offset: Int64, errno: Int32)

    public var description: String {
        switch self {
        case .open(let path, let e): return "cannot open WAL \(path): \(String(cString: strerror(e)))"
        case .stat(let path, let e): return "cannot stat WAL \(path): \(String(cString: strerror(e)))"
        case .read(let path, let offset, let e):
            return "cannot read WAL \(path) at \(offset): \(String(cString: strerror(e)))"
        }
    }
}

/// Tails a live `-wal` file and returns the transactions committed since the previous call.
///
/// Owned by the primary's writer thread: it is called right after a commit (or before a
/// checkpoint) so no frame can be checkpointed away unread. Not thread-safe.
///
/// Between calls it remembers the WAL generation (the header salts), the byte offset just past
/// the last *commit* frame it returned, and the running checksum at that offset, so each call
/// validates and reads only new bytes. Frames after the last commit frame are re-read on the
/// next call rather than cached, because SQLite (since 3.11) may rewrite an uncommitted frame
/// in place when the transaction writes the same page again, and a rolled-back transaction's
/// frames are overwritten by the next one: only committed frames are stable.
public final class WALReader {
    public let walPath: String

    private struct Position {
        let header: WALHeader
        /// File offset of the first frame not yet returned (always just past a commit frame,
        /// or the first frame of the generation).
        let nextFrameOffset: Int64
        /// Running checksum up to `nextFrameOffset`: the seed to validate the next frame.
        let checksum: WALChecksum
    }

    private var fd: Int32 = -1
    private var fileID: (dev: UInt64, ino: UInt64)?
    private var position: Position?

    /// Upper bound on one pread: large enough to amortise syscalls over many frames, small
    /// enough not to double memory for a huge WAL on top of the returned page images.
    static let readChunkBytes = 1 << 20

    public init(databasePath: String) {
        self.walPath = databasePath + "-wal"
    }

    deinit { closeFile() }

    /// Forgets the read position: the next call starts from the first frame of whatever WAL
    /// is on disk. Use after a TRUNCATE checkpoint (also detected automatically when the file
    /// shrinks below the header).
    public func reset() {
        position = nil
    }

    /// Offset of the next unread frame, or nil before the first read. For tests and metrics.
    var nextFrameOffset: Int64? { position?.nextFrameOffset }

    /// Reads every complete, checksum-valid transaction appended since the last call.
    ///
    /// Stops at the first frame whose salts don't match the header or whose checksum fails:
    /// that is the end of valid data. When the header salts changed (the writer restarted the
    /// WAL after a checkpoint) it starts over from the first frame. Returns [] when nothing new.
    public func readNewTransactions() throws(WALReaderError) -> [WALTransaction] {
        var transactions: [WALTransaction] = []
        for index in try readNewTransactionIndexes() {
            var pages: [UInt32: [UInt8]] = [:]
            for (page, offset) in index.frameOffsets { pages[page] = try pageImage(page, atFrame: offset, pageSize: index.pageSize) }
            transactions.append(WALTransaction(pages: pages, databasePages: index.databasePages, pageSize: index.pageSize))
        }
        return transactions
    }

    /// The image of `page` from the frame at `frameOffset` (as listed by
    /// `readNewTransactionIndexes`). Valid until the writer starts a new transaction: only the
    /// writer thread, which owns this reader, can make SQLite reuse the WAL.
    public func pageImage(_ page: UInt32, atFrame frameOffset: Int64, pageSize: UInt32) throws(WALReaderError) -> [UInt8] {
        let frame = try read(at: frameOffset, count: WALFormat.frameHeaderSize + Int(pageSize))
        // The frames were validated by the scan; this only guards against a WAL that changed
        // under us since (which the writer-thread confinement rules out).
        guard frame.count == WALFormat.frameHeaderSize + Int(pageSize),
            frame.withUnsafeBytes({ WALFormat.readBE32($0, 0) }) == page
        else { throw .read(path: walPath, offset: frameOffset, errno: EIO) }
        return Array(frame[WALFormat.frameHeaderSize...])
    }

    /// Like `readNewTransactions`, but lists where each page's last image lies instead of
    /// reading the images: memory grows with the number of pages a transaction touched
    /// (about 16 bytes each), not with their size.
    public func readNewTransactionIndexes() throws(WALReaderError) -> [WALTransactionIndex] {
        guard let size = try openCurrentFile(), size >= Int64(WALFormat.headerSize) else {
            // No WAL (never written, or deleted when the last connection closed) or an empty
            // one after a TRUNCATE checkpoint: whatever comes next is a new generation.
            position = nil
            return []
        }
        let headerBytes = try read(at: 0, count: WALFormat.headerSize)
        guard let header = headerBytes.withUnsafeBytes({ WALHeader($0) }) else {
            // SQLite ignores a WAL whose header doesn't validate, so there is nothing committed
            // in it; a writer rewriting the header will give it new salts anyway.
            position = nil
            return []
        }

        let start: Position
        if let current = position, current.header == header {
            start = current
        } else {
            // First read, or a restart: the salts (and so every frame's validity) changed.
            // Frames from the old generation still lie further into the file but no longer
            // match the salts, so the scan stops before them.
            start = Position(header: header, nextFrameOffset: Int64(WALFormat.headerSize), checksum: header.checksum)
        }
        let (transactions, end) = try scan(from: start, fileSize: size)
        position = end
        return transactions
    }

    /// Validates frames from `start` up to `fileSize` and groups them into transactions.
    /// Returns the transactions and the position just past the last commit frame.
    private func scan(from start: Position, fileSize: Int64) throws(WALReaderError) -> ([WALTransactionIndex], Position) {
        let header = start.header
        let frameSize = header.frameSize
        let framesPerChunk = max(1, Self.readChunkBytes / frameSize)

        var offset = start.nextFrameOffset
        var checksum = start.checksum
        var committed = start
        var pending: [UInt32: Int64] = [:]
        var transactions: [WALTransactionIndex] = []

        while fileSize - offset >= Int64(frameSize) {
            let available = Int((fileSize - offset) / Int64(frameSize))
            let wanted = min(framesPerChunk, available)
            let chunk = try read(at: offset, count: wanted * frameSize)
            let complete = chunk.count / frameSize
            var endOfValidData = complete < wanted
            chunk.withUnsafeBytes { raw in
                for i in 0..<complete {
                    let bytes = UnsafeRawBufferPointer(rebasing: raw[(i * frameSize)..<((i + 1) * frameSize)])
                    guard let frame = WALFrame.decode(bytes, header: header, previous: checksum) else {
                        endOfValidData = true
                        return
                    }
                    checksum = frame.checksum
                    // A later frame for the same page replaces the earlier image.
                    pending[frame.pageNumber] = offset
                    offset += Int64(frameSize)
                    if frame.commitSize != 0 {
                        transactions.append(Self.transaction(pending, size: frame.commitSize, pageSize: header.pageSize))
                        pending = [:]
                        committed = Position(header: header, nextFrameOffset: offset, checksum: checksum)
                    }
                }
            }
            if endOfValidData { break }
        }
        // Anything in `pending` belongs to a transaction still in progress (or one that will be
        // rolled back): it is re-read from `committed` next time.
        return (transactions, committed)
    }

    private static func transaction(_ pages: [UInt32: Int64], size: UInt32, pageSize: UInt32) -> WALTransactionIndex {
        // A transaction that shrank the database may have spilled frames for pages past its
        // final size before deciding to truncate; those pages no longer exist.
        let live = pages.keys.contains(where: { $0 > size }) ? pages.filter { $0.key <= size } : pages
        return WALTransactionIndex(frameOffsets: live, databasePages: size, pageSize: pageSize)
    }

    // MARK: - File access

    /// Makes sure `fd` refers to the file currently at `walPath` and returns its size, or nil
    /// when there is no WAL file. A different inode means the WAL was deleted and recreated
    /// (last connection closed, then reopened): start over on the new file.
    private func openCurrentFile() throws(WALReaderError) -> Int64? {
        var st = stat()
        if stat(walPath, &st) != 0 {
            let e = errno
            if e == ENOENT {
                closeFile()
                return nil
            }
            throw .stat(path: walPath, errno: e)
        }
        let id = (dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        if fd < 0 || fileID.map({ $0 != id }) ?? true {
            closeFile()
            let newFD = open(walPath, O_RDONLY | O_CLOEXEC)
            if newFD < 0 {
                let e = errno
                if e == ENOENT { return nil }
                throw .open(path: walPath, errno: e)
            }
            fd = newFD
            position = nil
        }
        // Size from the open descriptor, so it describes the file we will actually pread
        // (the path may have been swapped between stat and open).
        if fstat(fd, &st) != 0 { throw .stat(path: walPath, errno: errno) }
        fileID = (dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        return Int64(st.st_size)
    }

    private func closeFile() {
        if fd >= 0 { close(fd) }
        fd = -1
        fileID = nil
    }

    /// Reads up to `count` bytes at `offset`, fewer only at end of file.
    private func read(at offset: Int64, count: Int) throws(WALReaderError) -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(fd, buffer.baseAddress.map { $0 + done }, count - done, off_t(offset) + off_t(done))
                if n > 0 {
                    done += n
                } else if n == 0 {
                    break
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
            initialized = done
        }
        if failure != 0 { throw .read(path: walPath, offset: offset, errno: failure) }
        return bytes
    }
}

/// The reader belongs to the writer thread; sharing it would race on the read position.
@available(*, unavailable)
extension WALReader: Sendable {}
