import Foundation
import Synchronization

/// The primary's prepared snapshot images and the transfers reading them.
///
/// A transfer takes one of `maxConcurrent` slots for as long as its body is being sent; a
/// request past that is refused with `SnapshotError.busy`. An image stays on disk while a
/// transfer reads it and `keepMs` after the last one ended, so an interrupted download can
/// resume against the same image (`resume(id:)`), then it is deleted. Everything in the
/// directory is deleted at start: images of an earlier process are unknown to this one.
public final class SnapshotImages: Sendable {
    public struct Limits: Sendable {
        /// Transfers at once. Each one reads the whole database file and compresses it on one
        /// core (zlib level 1), and each image is a full copy of the database on disk (3 GiB
        /// took 15 s to copy here): on the 2-core reference machine two transfers can already
        /// keep both cores compressing, and a third would only take disk and CPU from the
        /// writer.
        public var maxConcurrent = 2
        /// How long an image is kept after its last transfer ended: long enough for a replica's
        /// reconnect backoff (capped at seconds) to come back several times, short enough that
        /// a full copy of the database does not sit on disk for long.
        public var keepMs = 120_000
        /// Sent as `Retry-After` with a refusal: about the time a small snapshot takes.
        public var retryAfterSeconds = 5
        public init() {}
    }

    public let directory: String
    public let limits: Limits
    private let state = Mutex(State())

    struct State {
        var transfers = 0
        var images: [SnapshotID: Entry] = [:]
        var releases = 0
    }

    struct Entry {
        var image: SnapshotImage
        var readers = 0
        /// Which release last left the image unread; its expiry only fires if still current.
        var releaseToken = 0
    }

    public init(directory: String, limits: Limits = Limits()) throws {
        self.directory = directory
        self.limits = limits
        try SegmentIO.makeDirectories(directory)
        for name in try SegmentIO.list(directory) { try SegmentIO.removeFile(directory + "/" + name) }
    }

    /// Images on disk now (prepared or being sent).
    public var imageCount: Int { state.withLock { $0.images.count } }
    public var activeTransfers: Int { state.withLock { $0.transfers } }

    /// A transfer of a new image made by `make`, or of the kept image `resume` from a chunk.
    func open(resume: SnapshotID?, make: (SnapshotID, String) async throws -> SnapshotImage) async throws -> SnapshotImage {
        let kept = try state.withLock { s throws(SnapshotError) -> SnapshotImage? in
            guard s.transfers < limits.maxConcurrent else { throw .busy(retryAfterSeconds: limits.retryAfterSeconds) }
            if let resume {
                guard s.images[resume] != nil else { throw .unknownSnapshot(resume) }
                s.images[resume]?.readers += 1
            }
            s.transfers += 1
            return resume.flatMap { s.images[$0]?.image }
        }
        if let kept { return kept }
        let id = SnapshotID.random()
        let path = directory + "/\(id.text).image"
        do {
            let image = try await make(id, path)
            state.withLock { $0.images[id] = Entry(image: image, readers: 1) }
            return image
        } catch {
            try? SegmentIO.removeFile(path)
            state.withLock { $0.transfers -= 1 }
            throw error
        }
    }

    /// Ends one transfer of `id`; the image expires `keepMs` later unless read again.
    func release(_ id: SnapshotID) {
        let token = state.withLock { s -> Int? in
            s.transfers -= 1
            guard var entry = s.images[id] else { return nil }
            entry.readers -= 1
            s.releases += 1
            entry.releaseToken = s.releases
            s.images[id] = entry
            return entry.readers == 0 ? s.releases : nil
        }
        guard let token else { return }
        let keep = limits.keepMs
        Task {
            try? await Task.sleep(for: .milliseconds(keep))
            self.expire(id, token: token)
        }
    }

    func expire(_ id: SnapshotID, token: Int) {
        let path = state.withLock { s -> String? in
            guard let entry = s.images[id], entry.readers == 0, entry.releaseToken == token else { return nil }
            s.images[id] = nil
            return entry.image.path
        }
        if let path { try? SegmentIO.removeFile(path) }
    }
}

/// One snapshot body being sent: the image, from which chunk, and its slot, given back by
/// `close()` (or when dropped).
public final class SnapshotTransfer: Sendable {
    public let image: SnapshotImage
    public let firstChunk: UInt64
    private let images: SnapshotImages
    private let fd: Int32
    private let closed = Mutex(false)

    init(image: SnapshotImage, firstChunk: UInt64, images: SnapshotImages) throws {
        self.image = image
        self.firstChunk = firstChunk
        self.images = images
        do {
            fd = try SegmentIO.openFile(image.path, O_RDONLY)
        } catch {
            images.release(image.header.id)
            throw error
        }
    }

    deinit { close() }

    /// The header of this body (its first chunk filled in).
    public var header: SnapshotHeader {
        var h = image.header
        h.firstChunk = firstChunk
        return h
    }

    public var trailer: SnapshotTrailer { image.trailer }

    /// Chunk `index` as sent: read from the image and compressed off the cooperative pool.
    public func chunk(_ index: UInt64) async throws -> [UInt8] {
        let image = self.image
        let fd = self.fd
        return try await Blocking.run {
            let bytes = try image.chunkBytes(index, fd: fd)
            return try bytes.withUnsafeBytes { try SnapshotChunk.encode(index: index, $0) }
        }
    }

    public func close() {
        guard
            closed.withLock({ c in
                defer { c = true }
                return !c
            })
        else { return }
        SegmentIO.closeFile(fd)
        images.release(image.header.id)
    }
}

extension ReplicationSource {
    /// Starts sending a snapshot: a new image, or the kept image `id` from chunk `fromChunk`.
    /// Throws `SnapshotError.busy` past the concurrency limit and `.unknownSnapshot` for an
    /// image no longer kept.
    public func openSnapshot(resume: (id: SnapshotID, fromChunk: UInt64)? = nil) async throws -> SnapshotTransfer {
        let image = try await snapshots.open(resume: resume?.id) { id, path in try await self.makeSnapshotImage(id: id, path: path) }
        let first = resume?.fromChunk ?? 0
        guard first <= image.header.chunkCount else {
            snapshots.release(image.header.id)
            throw SnapshotError.malformed("chunk \(first) is past the image's \(image.header.chunkCount) chunks")
        }
        return try SnapshotTransfer(image: image, firstChunk: first, images: snapshots)
    }
}
