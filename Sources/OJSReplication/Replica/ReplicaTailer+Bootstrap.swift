import AsyncHTTPClient
import Foundation
import NIOCore

extension ReplicaTailer {
    /// The longest `Retry-After` a refused snapshot request is honoured for: a bad value must
    /// not park a replica for hours.
    static let maxSnapshotRetryAfterSeconds = 60

    /// Fetches a snapshot into a temporary file, verifies it and installs it. Resumes the
    /// download an earlier attempt left (same image, from its first missing chunk) when the
    /// primary still keeps that image, and starts a new one otherwise. A failure leaves the
    /// download to be resumed by the next attempt, except a final checksum mismatch, which
    /// discards it.
    func bootstrap() async throws {
        status.update { $0.state = .bootstrapping }
        let directory = applier.dataDirectory.path
        let download = SnapshotDownload.resume(in: directory)
        var path = "/ojs/v1/replication/snapshot"
        if let download { path += "?id=\(download.header.id.text)&from_chunk=\(download.nextChunk)" }
        let response = try await client.execute(request(path), timeout: .milliseconds(Int64(configuration.snapshotHeadTimeoutMs)))
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1 << 16)
            if response.status == .notFound, let download {
                // The primary no longer keeps that image: the next attempt starts over.
                download.discard()
            }
            if response.status == .serviceUnavailable, let seconds = response.headers.first(name: "Retry-After").flatMap({ Int($0) }) {
                // The primary is sending its maximum of snapshots: come back when it says.
                try await Task.sleep(for: .seconds(min(max(seconds, 1), Self.maxSnapshotRetryAfterSeconds)))
            }
            throw SnapshotError.refused(status: Int(response.status.code), body: String(buffer: body))
        }
        let lastByte = LastActivity(clock())
        let received = try await withThrowingTaskGroup(of: (SnapshotDownload, SnapshotTrailer)?.self) { group in
            group.addTask { try await self.receive(response.body, resuming: download, into: directory, lastByte: lastByte) }
            group.addTask {
                let idle = Int64(self.configuration.snapshotIdleTimeoutMs)
                while true {
                    try await Task.sleep(for: .milliseconds(idle / 4))
                    if self.clock() - lastByte.at > idle { throw StreamIdle(ms: Int(idle)) }
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw SnapshotError.truncated(nextChunk: 0) }
            return result
        }
        let (finished, trailer) = received
        try await Blocking.run {
            try finished.finish(trailer)
            finished.close()
            try self.applier.install(imageAt: finished.imagePath, header: finished.header)
            SnapshotDownload.discardFiles(in: directory)
        }
        let header = finished.header
        diverged.withLock { $0 = false }
        status.update {
            $0.bootstraps += 1
            $0.appliedTxid = header.txid
            $0.primaryTxid = max($0.primaryTxid, header.txid)
            $0.generation = header.generation.text
            $0.oldestPendingCommit = nil
            $0.lastContact = clock()
            $0.lastError = nil
        }
        // After the status, as for every applied batch (see the stream's apply loop).
        applied.reset(to: Int64(header.txid))
        logger.notice(
            "replica bootstrapped",
            metadata: [
                "txid": .stringConvertible(header.txid), "generation": .string(header.generation.text),
                "bytes": .stringConvertible(header.imageLength),
            ]
        )
    }

    /// Reads one snapshot body into the download it resumes, or into a new one once its
    /// header arrived; returns it with the trailer once the body is complete.
    private func receive(
        _ body: HTTPClientResponse.Body,
        resuming saved: SnapshotDownload?,
        into directory: String,
        lastByte: LastActivity
    ) async throws -> (SnapshotDownload, SnapshotTrailer) {
        var download = saved
        var decoder = SnapshotStreamDecoder()
        var trailer: SnapshotTrailer?
        do {
            for try await piece in body {
                lastByte.touch(clock())
                status.update { $0.bytesReceived += piece.readableBytes }
                decoder.feed(piece.readableBytesView)
                while let part = try decoder.next() {
                    switch part {
                    case .header(let header):
                        if let saved, !saved.header.sameImage(as: header) || header.firstChunk != saved.nextChunk {
                            saved.discard()
                            throw SnapshotError.malformed("the primary resumed another image or chunk")
                        }
                        if download == nil {
                            let extra = applier.spaceToInstall(imageLength: header.imageLength)
                            download = try await Blocking.run { try SnapshotDownload.start(header, in: directory, extraBytes: extra) }
                        }
                    case .chunk(let index, let bytes):
                        guard let target = download else { throw SnapshotError.malformed("chunk before header") }
                        try await Blocking.run { try target.write(chunk: index, bytes: bytes) }
                    case .trailer(let t):
                        trailer = t
                    }
                }
            }
            try decoder.finish()
        } catch {
            download?.close()
            throw error
        }
        guard let download, let trailer else { throw SnapshotError.truncated(nextChunk: decoder.nextChunk) }
        return (download, trailer)
    }
}
