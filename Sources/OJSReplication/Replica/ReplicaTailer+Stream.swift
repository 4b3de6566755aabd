import AsyncHTTPClient
import Foundation
import NIOCore
import OJSStore
import Synchronization

/// Records received from the stream and not yet applied.
final class PendingRecords: Sendable {
    private let records = Mutex<[StreamedRecord]>([])
    /// The newest txid received.
    let received: PositionBroadcaster

    init(after txid: UInt64) { received = PositionBroadcaster(Int64(txid)) }

    func append(_ r: [StreamedRecord]) {
        guard let last = r.last else { return }
        records.withLock { $0 += r }
        received.publish(Int64(last.record.txid))
    }

    func takeAll() -> [StreamedRecord] { records.withLock { r in defer { r.removeAll() }; return r } }

    var oldestCommit: Int64? { records.withLock { $0.first?.record.commitTime } }
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
        let path = "/ojs/v1/replication/stream?after=\(position.txid)&generation=\(position.generation.text)&region=\(configuration.region)"
        let response = try await client.execute(request(path), deadline: .distantFuture)
        switch response.status.code {
        case 200: break
        case 410: throw TailError.snapshotRequired
        case 409: throw TailError.generationChanged
        default:
            let body = try await response.body.collect(upTo: 1 << 16)
            throw TailError.status(Int(response.status.code), String(buffer: body))
        }
        diverged.withLock { $0 = false }
        status.update {
            $0.state = .catchingUp
            $0.lastContact = clock()
            $0.lastError = nil
            $0.closedByPrimaryAt = nil
        }
        let pending = PendingRecords(after: position.txid)
        let lastByte = LastActivity(clock())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var decoder = RecordStreamDecoder(generation: position.generation, lastTxid: position.txid, lastChecksum: position.checksum)
                for try await chunk in response.body {
                    let now = self.clock()
                    lastByte.touch(now)
                    decoder.feed(chunk.readableBytesView)
                    let records: [StreamedRecord]
                    do { records = try decoder.drain() } catch { throw TailError.brokenStream("\(error)") }
                    let transactions = records.filter { $0.record.kind == .transaction }
                    self.status.update { s in
                        s.bytesReceived += chunk.readableBytes
                        s.lastContact = now
                        s.primaryTxid = max(s.primaryTxid, decoder.lastTxid)
                        if s.oldestPendingCommit == nil { s.oldestPendingCommit = transactions.first?.record.commitTime }
                        if transactions.isEmpty, s.appliedTxid == s.primaryTxid { s.state = .streaming }
                    }
                    pending.append(transactions)
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
                    let since = ContinuousClock.now - lastApply
                    let window = Duration.milliseconds(self.configuration.batchWindowMs)
                    if since < window { try await Task.sleep(for: window - since) }
                    let batch = pending.takeAll()
                    guard let last = batch.last else { continue }
                    let started = ContinuousClock.now
                    try await Blocking.run { try self.applier.apply(batch) }
                    lastApply = ContinuousClock.now
                    let appliedAt = self.clock()
                    let lags = batch.map { max(0, appliedAt - $0.record.commitTime) }
                    self.status.recordApplyLags(lags)
                    self.applyObserver.withLock { $0 }?(batch.count, batch.reduce(0) { $0 + $1.encoded.bytes.count }, lastApply - started, lags)
                    appliedTxid = last.record.txid
                    let oldest = pending.oldestCommit
                    self.status.update { s in
                        s.appliedTxid = appliedTxid
                        s.appliedCommitTime = last.record.commitTime
                        s.recordsApplied += batch.count
                        s.oldestPendingCommit = oldest
                        s.state = s.primaryTxid <= appliedTxid ? .streaming : .catchingUp
                    }
                    // Published after the status, so a read woken by it reports (in its
                    // OJS-Bookmark) a position at least as new as the one it waited for.
                    self.applied.publish(Int64(appliedTxid))
                }
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
