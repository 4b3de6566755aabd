import Foundation
import Logging
import OJSCore
import XCTest

@testable import OJSReplication
@testable import OJSStore

/// A replica's relay log holds exactly the records it applied, as the primary logged them, and
/// ends at the applied position after any crash; promotion and demotion turn a data directory
/// into the other role's without a snapshot.
final class RelayLogTests: XCTestCase {
    var root: URL!
    var logger = Logger(label: "relay")

    override func setUp() {
        super.setUp()
        root = RecordFixtures.temporaryDirectory()
        logger.logLevel = .critical
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: root)
        super.tearDown()
    }

    /// A primary whose transactions are split into records of about 8 KiB of pages and whose
    /// log rolls segments every 64 KiB.
    func startPrimary(_ name: String = "primary") async throws -> (store: Store, source: ReplicationSource, directory: URL) {
        let directory = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try Store(configuration: StoreConfiguration(path: directory.appendingPathComponent("ojs.db").path))
        let source = try await ReplicationSource.attach(
            to: store,
            directory: directory.appendingPathComponent("replication"),
            logger: logger,
            segmentBytes: 64 << 10,
            recordPageBytes: 8 << 10
        )
        return (store, source, directory)
    }

    /// A replica data directory holding a copy of the primary taken right after `attach`
    /// (which checkpointed everything into the file), positioned at the log's end.
    func makeReplica(of primary: (store: Store, source: ReplicationSource, directory: URL), name: String = "replica") throws -> URL {
        let directory = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let image = directory.appendingPathComponent("image.download")
        try FileManager.default.copyItem(at: primary.directory.appendingPathComponent("ojs.db"), to: image)
        try PageApplier.installSnapshot(fileAt: image.path, at: directory.appendingPathComponent("replica.db").path)
        let log = primary.source.log
        try ReplicaPosition(generation: log.generation, txid: log.lastTxid, checksum: log.lastChecksum)
            .save(to: directory.appendingPathComponent("position.json"))
        return directory
    }

    func push(_ store: Store, _ count: Int, argBytes: Int = 16) async throws {
        for i in 0..<count {
            let arg = String(repeating: "a", count: argBytes)
            let spec = try JobSpec.parse(try JSONParser.parse(#"{"type":"relay.t","args":[\#(i),"\#(arg)"]}"#), now: store.clock())
            _ = try await store.enqueue(spec)
        }
    }

    /// Sends the applier what the tailer would: the primary's records after its position,
    /// whole transactions in memory and transactions in several records spooled.
    func ship(_ source: ReplicationSource, to applier: ReplicaApplier) throws {
        let position = try XCTUnwrap(applier.position)
        var decoder = RecordStreamDecoder(generation: position.generation, lastTxid: position.txid, lastChecksum: position.checksum)
        for record in try source.log.records(after: position.txid, maxBytes: 1 << 30) { decoder.feed(record.bytes) }
        let spool = PartSpool(directory: applier.dataDirectory.path)
        var batch: [PendingTransaction] = []
        for streamed in try decoder.drain() {
            if streamed.record.isPartOfSeveral {
                if let whole = try spool.append(streamed) { batch.append(.spooled(whole)) }
            } else {
                batch.append(.record(streamed))
            }
        }
        try applier.apply(batch)
    }

    func jobCount(_ path: String) throws -> Int64 {
        let reader = try Connection(path: path, options: .init(readOnly: true))
        return try reader.scalar("SELECT count(*) FROM jobs")
    }

    func databaseTxid(_ path: String) throws -> Int64 {
        let reader = try Connection(path: path, options: .init(readOnly: true))
        return try reader.scalar("SELECT txid FROM replication_position WHERE id = 1")
    }

    func assertRelayEndsAtPosition(_ applier: ReplicaApplier, file: StaticString = #filePath, line: UInt = #line) throws {
        let position = try XCTUnwrap(applier.position, file: file, line: line)
        let end = applier.relayLog.stats
        XCTAssertEqual(
            ReplicaPosition(generation: end.generation, txid: end.lastTxid, checksum: end.lastChecksum),
            position,
            "relay log end",
            file: file,
            line: line
        )
        XCTAssertEqual(try databaseTxid(applier.databasePath), Int64(position.txid), "database position", file: file, line: line)
    }

    /// `Store.close()` returns before its threads have released their connections, and
    /// leaving WAL mode needs none open: retries while SQLite says the file is locked (nothing
    /// is changed by an attempt that fails there), for at most 5 s.
    func demoteOnceClosed(_ directory: URL) async throws -> CopyPromotion.Result? {
        for _ in 0..<250 {
            let attempt = Result { () throws(CopyPromotionError) in try CopyPromotion.demote(dataDirectory: directory) }
            guard case .failure(.io(let why)) = attempt, why.contains("locked") else { return try attempt.get() }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try CopyPromotion.demote(dataDirectory: directory)
    }

    func testTheRelayLogHoldsThePrimarysRecordsByteForByte() async throws {
        let primary = try await startPrimary()
        defer { primary.store.close() }
        let start = primary.source.log.lastTxid
        let applier = try ReplicaApplier(dataDirectory: try makeReplica(of: primary), relayLog: RelayLogLimits(segmentBytes: 64 << 10))
        try assertRelayEndsAtPosition(applier)
        for round in 0..<5 {
            try await push(primary.store, 45)
            // One transaction far larger than a record (8 KiB): it ships in parts.
            if round == 2 { try await push(primary.store, 1, argBytes: 200_000) }
            try ship(primary.source, to: applier)
        }
        XCTAssertGreaterThanOrEqual(primary.source.log.lastTxid - start, 226)
        XCTAssertGreaterThanOrEqual(primary.source.stats.multiPartTransactions, 1)
        let relay = applier.relayLog.stats
        let log = primary.source.log.stats
        XCTAssertEqual(relay.generation, log.generation)
        XCTAssertEqual(relay.lastTxid, log.lastTxid)
        XCTAssertEqual(relay.lastChecksum, log.lastChecksum)
        XCTAssertGreaterThan(relay.segmentCount, 1, "segments roll as on the primary")
        let relayed = try applier.relayLog.records(after: start, maxBytes: .max)
        let original = try primary.source.log.records(after: start, maxBytes: .max)
        XCTAssertGreaterThan(original.filter { $0.part > 0 }.count, 1)
        XCTAssertEqual(relayed.map(\.bytes), original.map(\.bytes), "the same records, parts as parts")
        try assertRelayEndsAtPosition(applier)
        XCTAssertEqual(try jobCount(applier.databasePath), try jobCount(primary.directory.appendingPathComponent("ojs.db").path))
    }

    func testAnInstalledSnapshotRestartsTheRelayLogAfterItsTxidWithItsChecksum() async throws {
        let primary = try await startPrimary()
        defer { primary.store.close() }
        let applier = try ReplicaApplier(dataDirectory: try makeReplica(of: primary))
        try await push(primary.store, 20)
        try ship(primary.source, to: applier)
        try await push(primary.store, 30)
        // A snapshot of the same history taken further on (the replica fell behind retention).
        let imagePath = root.appendingPathComponent("snapshot.image").path
        let copy = try SnapshotImage.copyDatabase(from: primary.directory.appendingPathComponent("ojs.db").path, to: imagePath)
        let checksum = try primary.source.log.checksum(at: copy.txid)
        XCTAssertNotEqual(checksum, 0)
        let header = SnapshotHeader(
            generation: primary.source.log.generation,
            id: .random(),
            txid: copy.txid,
            checksum: checksum,
            pageSize: copy.pageSize,
            imageLength: copy.length
        )
        try applier.install(imageAt: imagePath, header: header)
        XCTAssertEqual(
            applier.relayLog.stats,
            .init(generation: header.generation, firstTxid: 0, lastTxid: copy.txid, lastChecksum: checksum, totalBytes: 0, segmentCount: 0)
        )
        try await push(primary.store, 10)
        try ship(primary.source, to: applier)
        XCTAssertEqual(applier.relayLog.firstTxid, copy.txid + 1)
        XCTAssertEqual(try applier.relayLog.checksum(at: copy.txid), checksum)
        XCTAssertEqual(
            try applier.relayLog.records(after: copy.txid, maxBytes: .max),
            try primary.source.log.records(after: copy.txid, maxBytes: .max)
        )
        try assertRelayEndsAtPosition(applier)
    }

    /// The process died after the relay log was fsynced and before the pages or the position
    /// were written: reopening applies the rest from the relay log. Then the relay log loses its
    /// tail (a torn last record): reopening restarts it at the position.
    func testAfterACrashTheRelayLogEndsAtTheAppliedPosition() async throws {
        let primary = try await startPrimary()
        defer { primary.store.close() }
        let directory = try makeReplica(of: primary)
        var applier: ReplicaApplier? = try ReplicaApplier(dataDirectory: directory)
        try await push(primary.store, 10)
        try ship(primary.source, to: try XCTUnwrap(applier))
        let applied = try XCTUnwrap(applier?.position)
        try await push(primary.store, 20)
        try await push(primary.store, 1, argBytes: 100_000)
        try await push(primary.store, 5)
        for record in try primary.source.log.records(after: applied.txid, maxBytes: .max) { try applier?.relayLog.append(record) }
        try applier?.relayLog.sync()
        XCTAssertEqual(applier?.position, applied, "nothing applied yet")
        applier = nil

        let position: ReplicaPosition
        do {
            let reopened = try ReplicaApplier(dataDirectory: directory)
            XCTAssertEqual(reopened.position?.txid, primary.source.log.lastTxid, "re-applied from the relay log")
            XCTAssertEqual(reopened.position?.checksum, primary.source.log.lastChecksum)
            try assertRelayEndsAtPosition(reopened)
            XCTAssertEqual(try jobCount(reopened.databasePath), try jobCount(primary.directory.appendingPathComponent("ojs.db").path))
            position = try XCTUnwrap(reopened.position)
        }

        let relayDirectory = directory.appendingPathComponent("replication")
        let newest = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: relayDirectory.path).filter { $0.hasSuffix(".ojsr") }.sorted().last
        )
        let segment = try FileHandle(forWritingTo: relayDirectory.appendingPathComponent(newest))
        try segment.truncate(atOffset: try segment.seekToEnd() - 7)
        try segment.close()
        let afterLoss = try ReplicaApplier(dataDirectory: directory)
        XCTAssertEqual(afterLoss.position, position, "the copy keeps its position")
        try assertRelayEndsAtPosition(afterLoss)
        try await push(primary.store, 5)
        try ship(primary.source, to: afterLoss)
        try assertRelayEndsAtPosition(afterLoss)
        XCTAssertEqual(afterLoss.position?.txid, primary.source.log.lastTxid)
    }

    func testAPromotedCopyContinuesTheGenerationAndItsChain() async throws {
        let primary = try await startPrimary()
        let directory = try makeReplica(of: primary)
        do {
            let applier = try ReplicaApplier(dataDirectory: directory)
            try await push(primary.store, 40)
            try await push(primary.store, 1, argBytes: 100_000)
            try ship(primary.source, to: applier)
        }
        let generation = primary.source.log.generation
        let (txid, checksum) = (primary.source.log.lastTxid, primary.source.log.lastChecksum)
        primary.store.close()

        let promoted = try CopyPromotion.promote(dataDirectory: directory)
        XCTAssertEqual(promoted.generation, generation)
        XCTAssertEqual(promoted.txid, txid)
        XCTAssertEqual(promoted.checksum, checksum)
        XCTAssertEqual(promoted.databasePath, directory.appendingPathComponent("ojs.db").path)
        for gone in ["replica.db", "position.json", "apply.spool"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent(gone).path), gone)
        }
        do {
            let reader = try Connection(path: promoted.databasePath, options: .init(readOnly: true))
            XCTAssertEqual(try reader.text("PRAGMA journal_mode"), "wal")
        }

        let store = try Store(configuration: StoreConfiguration(path: promoted.databasePath))
        defer { store.close() }
        let source = try await ReplicationSource.attach(to: store, directory: directory.appendingPathComponent("replication"), logger: logger)
        XCTAssertEqual(source.log.generation, generation, "the history continues")
        XCTAssertEqual(source.log.lastTxid, txid)
        XCTAssertNoThrow(try source.checkStart(after: txid, generation: generation, checksum: checksum))
        try await push(store, 1)
        XCTAssertEqual(source.log.lastTxid, txid + 1)
        let next = try source.log.records(after: txid, maxBytes: .max)
        XCTAssertEqual(next.first?.previousChecksum, checksum, "the next commit chains from the copy's checksum")
        XCTAssertEqual(source.log.generation, generation)
    }

    func testPromotionRefusesADirectoryWithoutACopyOrWhosePiecesDisagree() async throws {
        XCTAssertThrowsError(try CopyPromotion.promote(dataDirectory: root.appendingPathComponent("nothing"))) {
            guard case CopyPromotionError.noCopy = $0 else { return XCTFail("\($0)") }
        }
        let primary = try await startPrimary()
        let directory = try makeReplica(of: primary)
        do {
            let applier = try ReplicaApplier(dataDirectory: directory)
            try await push(primary.store, 5)
            try ship(primary.source, to: applier)
        }
        let txid = primary.source.log.lastTxid
        primary.store.close()
        // A position one transaction back on a chain the relay log does not know: the database
        // holds a newer transaction than the position says.
        try ReplicaPosition(generation: primary.source.log.generation, txid: txid - 1, checksum: 12345)
            .save(to: directory.appendingPathComponent("position.json"))
        XCTAssertThrowsError(try CopyPromotion.promote(dataDirectory: directory)) {
            guard case CopyPromotionError.disagree = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("replica.db").path), "nothing renamed")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("position.json"))
        XCTAssertThrowsError(try CopyPromotion.promote(dataDirectory: directory)) {
            guard case CopyPromotionError.noCopy = $0 else { return XCTFail("\($0)") }
        }
    }

    func testADemotedPrimaryIsACopyAtItsLogsEndAndADivergedOneIsRefused() async throws {
        let primary = try await startPrimary()
        try await push(primary.store, 30)
        let stats = primary.source.log.stats
        primary.store.close()

        let result = try await demoteOnceClosed(primary.directory)
        let demoted = try XCTUnwrap(result)
        XCTAssertEqual(demoted.generation, stats.generation)
        XCTAssertEqual(demoted.txid, stats.lastTxid)
        XCTAssertEqual(demoted.checksum, stats.lastChecksum)
        XCTAssertFalse(FileManager.default.fileExists(atPath: primary.directory.appendingPathComponent("ojs.db").path))
        let applier = try ReplicaApplier(dataDirectory: primary.directory)
        XCTAssertEqual(applier.position, ReplicaPosition(generation: stats.generation, txid: stats.lastTxid, checksum: stats.lastChecksum))
        try assertRelayEndsAtPosition(applier)
        do {
            let reader = try Connection(path: applier.databasePath, options: .init(readOnly: true))
            XCTAssertEqual(try reader.text("PRAGMA journal_mode"), "delete")
        }

        // The primary's stream check: the right chain value streams, another one (a copy that
        // committed its own transactions at these txids) is refused, as is a copy that is ahead.
        let other = try await startPrimary("other")
        defer { other.store.close() }
        try await push(other.store, 30)
        let log = other.source.log
        let at = log.lastTxid - 3
        XCTAssertNoThrow(try other.source.checkStart(after: at, generation: log.generation, checksum: try log.checksum(at: at)))
        XCTAssertNoThrow(try other.source.checkStart(after: at, generation: log.generation), "replicas that do not say are streamed to")
        XCTAssertThrowsError(try other.source.checkStart(after: at, generation: log.generation, checksum: try log.checksum(at: at) &+ 1)) {
            XCTAssertEqual($0 as? StreamRefusal, .diverged(at: at))
        }
        XCTAssertThrowsError(try other.source.checkStart(after: log.lastTxid + 2, generation: log.generation, checksum: 1)) {
            XCTAssertEqual($0 as? StreamRefusal, .ahead(last: log.lastTxid))
        }
        let start = log.firstTxid - 1
        XCTAssertNoThrow(try other.source.checkStart(after: start, generation: log.generation, checksum: 0), "the start-after point")
        XCTAssertEqual(ReplicationProtocol.status(for: .diverged(at: at)), 409)
    }
}
