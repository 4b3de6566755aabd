import AsyncHTTPClient
import Foundation
import NIOCore
import OJSStore
import Synchronization

/// Records received from the stream and not yet applied, bounded in bytes: the reader waits
/// (and so stops reading the stream) while the buffer is full, and the applier wakes it by
/// draining.
final class PendingRecords: Sendable {
    private struct Buffer {
        var items: [PendingTransaction] = []
        var bytes = 0
    }

    private let buffer = Mutex(Buffer())
    /// The newest txid received.
    let received: PositionBroadcaster
    /// Counts drains, so a reader blocked on a full buffer can wait for one.
    private let drains = PositionBroadcaster()
    let maxBytes: Int

    init(after txid: TxID, maxBytes: Int) {
        received = PositionBroadcaster(Int64(txid))
        self.maxBytes = max(1, maxBytes)
    }

    func append(_ r: [PendingTransaction]) {
        guard let last = r.last else { return }
        let size = r.reduce(0) { $0 + $1.bytes }
        buffer.withLock {
            $0.items += r
            $0.bytes += size
        }
        received.publish(Int64(last.txid))
    }

    func takeAll() -> [PendingTransaction] {
        let taken = buffer.withLock { b in
            defer { b = Buffer() }
            return b.items
        }
        drains.publish(drains.value + 1)
        return taken
    }

    var bytes: Int { buffer.withLock { $0.bytes } }
    var isFull: Bool { bytes >= maxBytes }

    /// Waits until the buffer has room (true) or `timeout` passes (false).
    func waitForRoom(timeout: Duration) async -> Bool {
        while isFull {
            let seen = drains.value
            if !isFull { return true }
            guard await drains.wait(atLeast: seen + 1, timeout: timeout) else { return !isFull }
        }
        return true
    }

    var oldestCommit: Int64? { buffer.withLock { $0.items.first?.commitTime } }
}

/// A whole transaction waiting to be applied: in memory (one record), or spooled to disk (a
/// transaction shipped in several records). Spooled bytes count against the buffer too, so
/// disk use for received-but-unapplied transactions is bounded the same way.
enum PendingTransaction: Sendable {
    case record(StreamedRecord)
    case spooled(SpooledTransaction)

    var txid: TxID {
        switch self {
        case .record(let r): return r.record.txid
        case .spooled(let s): return s.txid
        }
    }

    var commitTime: Int64 {
        switch self {
        case .record(let r): return r.record.commitTime
        case .spooled(let s): return s.commitTime
        }
    }

    /// What it holds: a record in memory holds its encoded bytes and its decoded pages (records
    /// compress up to ~25:1, so the encoded size alone would understate it); a spooled
    /// transaction holds its file.
    var bytes: Int {
        switch self {
        case .record(let r): return r.encoded.bytes.count + r.encoded.rawPayloadBytes
        case .spooled(let s): return s.bytes
        }
    }

    /// Record bytes as received, for the applied-bytes metric.
    var wireBytes: Int {
        switch self {
        case .record(let r): return r.encoded.bytes.count
        case .spooled(let s): return s.bytes
        }
    }

    var records: Int {
        switch self {
        case .record: return 1
        case .spooled(let s): return s.records
        }
    }
}

extension ReplicaApplier {
    /// Applies pending transactions in order: runs of in-memory records as one batch each,
    /// spooled transactions one at a time from disk.
    func apply(_ batch: [PendingTransaction]) throws {
        var inMemory: [StreamedRecord] = []
        for item in batch {
            switch item {
            case .record(let r): inMemory.append(r)
            case .spooled(let spooled):
                if !inMemory.isEmpty { try apply(inMemory) }
                inMemory.removeAll()
                try applySpooled(spooled)
            }
        }
        if !inMemory.isEmpty { try apply(inMemory) }
    }
}

/// When the stream last delivered a byte, shared by the reader and the watchdog.
final class LastActivity: Sendable {
    private let value: Mutex<Int64>
    init(_ now: Int64) { value = Mutex(now) }
    func touch(_ now: Int64) { value.withLock { $0 = now } }
    var at: Int64 { value.withLock { $0 } }
}

extension ReplicaTailer {
    struct StreamIdle: Error, CustomStringConvertible {
        let ms: Int
        var description: String { "no data from the primary for \(ms) ms" }
    }

    struct StreamEnded: Error, CustomStringConvertible {
        var description: String { "the primary closed the stream" }
    }

    /// One connection's worth of tailing: a reader task decodes and verifies records, an
    /// applier task applies them in batches, a watchdog ends the connection when the primary
    /// goes silent (heartbeats arrive every second).
    func tail() async throws {
        guard let position = applier.position else { return }
        let response = try await client.execute(request(streamPath(from: position)), deadline: .distantFuture)
        guard response.status.code == 200 else {
            let body = try await response.body.collect(upTo: 1 << 16)
            switch ReplicationProtocol.outcome(status: Int(response.status.code)) {
            case .positionTrimmed: throw TailError.snapshotRequired
            case .historyDiverged: throw TailError.generationChanged
            case .fault: throw TailError.status(Int(response.status.code), String(buffer: body))
            }
        }
        diverged.withLock { $0 = false }
        clearFault()
        let syncAcks = (response.headers.first(name: ReplicationProtocol.Header.syncReplicas).flatMap { Int($0) } ?? 0) >= 1
        status.update {
            $0.syncAcks = syncAcks
            $0.state = .catchingUp
            $0.lastContact = clock()
            $0.lastError = nil
            $0.closedByPrimaryAt = nil
            $0.connections += 1
        }
        let pending = PendingRecords(after: position.txid, maxBytes: configuration.maxPendingBytes)
        let lastByte = LastActivity(clock())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var decoder = RecordStreamDecoder(generation: position.generation, lastTxid: position.txid, lastChecksum: position.checksum)
                let spool = PartSpool(directory: self.applier.dataDirectory.path)
                for try await chunk in response.body {
                    let now = self.clock()
                    lastByte.touch(now)
                    decoder.feed(chunk.readableBytesView)
                    var transactions: [PendingTransaction] = []
                    // One record at a time: a chunk can hold many well-compressed parts (the
                    // 208 MiB due burst compressed 25:1), and decoding them all at once would
                    // hold every part's pages.
                    while true {
                        let next: StreamedRecord?
                        do { next = try decoder.next() } catch { throw TailError.brokenStream("\(error)") }
                        guard let streamed = next else { break }
                        guard streamed.record.kind.carriesPages else { continue }
                        if streamed.record.isPartOfSeveral {
                            // Parts go to disk as they arrive; the transaction is pending once whole.
                            if let whole = try spool.append(streamed) { transactions.append(.spooled(whole)) }
                        } else {
                            transactions.append(.record(streamed))
                        }
                    }
                    self.status.update { s in
                        s.bytesReceived += chunk.readableBytes
                        s.lastContact = now
                        s.primaryTxid = max(s.primaryTxid, decoder.lastTxid)
                        if s.oldestPendingCommit == nil { s.oldestPendingCommit = transactions.first?.commitTime }
                        if transactions.isEmpty, s.appliedTxid == s.primaryTxid { s.state = .streaming }
                    }
                    pending.append(transactions)
                    if pending.isFull {
                        // Backpressure: stop reading until the applier drains. Its progress
                        // counts as activity for the idle watchdog.
                        self.status.update {
                            $0.backpressured = true
                            $0.pendingBytes = pending.bytes
                        }
                        while !(await pending.waitForRoom(timeout: .seconds(1))) {
                            try Task.checkCancellation()
                            lastByte.touch(self.clock())
                        }
                        lastByte.touch(self.clock())
                        self.status.update { $0.backpressured = false }
                    }
                }
                throw StreamEnded()
            }
            group.addTask {
                var appliedTxid = position.txid
                var lastApply = ContinuousClock.now
                while true {
                    guard await pending.received.wait(atLeast: Int64(appliedTxid) + 1, timeout: .seconds(1)) else {
                        try Task.checkCancellation()
                        continue
                    }
                    // Under a steady stream, gather a window's worth so readers pause rarely.
                    // Not when the primary waits for our acknowledgement: every write would
                    // pay the window. Records that arrive during an apply still form a batch.
                    let since = ContinuousClock.now - lastApply
                    let window = Duration.milliseconds(syncAcks ? 0 : self.configuration.batchWindowMs)
                    if since < window { try await Task.sleep(for: window - since) }
                    let batch = pending.takeAll()
                    guard let last = batch.last else { continue }
                    let started = ContinuousClock.now
                    try await Blocking.run { try self.applier.apply(batch) }
                    lastApply = ContinuousClock.now
                    let appliedAt = self.clock()
                    let lags = batch.map { max(0, appliedAt - $0.commitTime) }
                    let records = batch.reduce(0) { $0 + $1.records }
                    self.status.recordApplyLags(lags)
                    self.applyObserver.withLock { $0 }?(records, batch.reduce(0) { $0 + $1.wireBytes }, lastApply - started, lags)
                    appliedTxid = last.txid
                    let oldest = pending.oldestCommit
                    self.status.update { s in
                        s.appliedTxid = appliedTxid
                        s.appliedCommitTime = last.commitTime
                        s.recordsApplied += records
                        s.oldestPendingCommit = oldest
                        s.pendingBytes = pending.bytes
                        s.state = s.primaryTxid <= appliedTxid ? .streaming : .catchingUp
                    }
                    // Published after the status, so a read woken by it reports (in its
                    // OJS-Bookmark) a position at least as new as the one it waited for.
                    self.applied.publish(Int64(appliedTxid))
                }
            }
            if syncAcks {
                group.addTask { try await self.acknowledgeForever(after: position.txid, generation: position.generation.text) }
            }
            group.addTask {
                let idle = self.configuration.idleTimeoutMs
                while true {
                    try await Task.sleep(for: .milliseconds(idle / 4))
                    if self.clock() - lastByte.at > Int64(idle) { throw StreamIdle(ms: idle) }
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
