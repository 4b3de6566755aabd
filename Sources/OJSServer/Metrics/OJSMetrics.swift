import Foundation
import OJSCore
import OJSReplication
import OJSStore
import Prometheus
import Synchronization

/// Prometheus metrics for both roles, all named `ojs_…`. Event-driven series (HTTP, writer
/// batches, job outcomes, replica applies) are recorded as they happen; state series (queue
/// depths, dead letters, replication lag) are read at scrape time, so `/metrics` always
/// shows the present.
public final class OJSMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let counterTotals = Mutex<[String: Double]>([:])
    /// The HTTP series already made, by label values: the registry's own lookup (label arrays
    /// built, sorted and hashed, under its lock) was 2 % of a static route's CPU (perf).
    private let httpSeries = Mutex<[HTTPSeriesKey: (requests: Counter, latency: DurationHistogram)]>([:])

    private struct HTTPSeriesKey: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]
    static let lagBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    public init() {}

    // MARK: events

    func httpRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = HTTPSeriesKey(method: method, route: route, status: status)
        // The registry takes only its own lock and never calls back here, so making a series
        // under this one cannot deadlock.
        let series = httpSeries.withLock { table in
            if let known = table[key] { return known }
            let made = (
                requests: registry.makeCounter(
                    name: "ojs_http_requests_total",
                    labels: [("method", method), ("route", route), ("status", String(status))],
                    help: "HTTP requests by route and status"
                ),
                latency: registry.makeDurationHistogram(
                    name: "ojs_http_request_duration_seconds",
                    labels: [("route", route), ("status", String(status))],
                    buckets: Self.latencyBuckets,
                    help: "HTTP request latency"
                )
            )
            table[key] = made
            return made
        }
        series.requests.increment()
        series.latency.record(duration)
    }

    /// One committed writer batch: how many requests shared the transaction, how long it took.
    func writerBatch(size: Int, commitMicros: Int) {
        registry.makeValueHistogram(
            name: "ojs_writer_batch_size",
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
            help: "Requests per group-commit transaction"
        ).record(Double(size))
        registry.makeDurationHistogram(
            name: "ojs_writer_commit_duration_seconds",
            buckets: Self.latencyBuckets,
            help: "Writer transaction time, BEGIN to COMMIT"
        ).record(.microseconds(commitMicros))
    }

    /// A job outcome reported through the API: completed, failed, retried, discarded.
    func jobOutcome(_ outcome: String, queue: String) {
        registry.makeCounter(name: "ojs_jobs_\(outcome)_total", labels: [("queue", queue)], help: "Jobs \(outcome) (through ack/nack)").increment()
    }

    /// A push delivery's outcome (`completed`, `failed`, `accepted`, `throttled`, `disabled`,
    /// `rejected`, `timeout`, `error`).
    func pushDelivery(_ outcome: String, queue: String) {
        registry.makeCounter(
            name: "ojs_push_deliveries_total",
            labels: [("queue", queue), ("outcome", outcome)],
            help: "Push deliveries by outcome"
        ).increment()
    }

    /// A push endpoint's health changed: 1 for its current state, 0 for the others.
    func pushEndpointState(_ state: String, queue: String) {
        for s in ["active", "open", "half_open", "disabled"] {
            gauge(
                "ojs_push_endpoint_state",
                labels: [("queue", queue), ("state", s)],
                help: "1 for the push endpoint's current state",
                s == state ? 1 : 0
            )
        }
    }

    /// A replica applied a batch.
    public func replicaApplied(records: Int, bytes: Int, duration: Duration) {
        registry.makeCounter(name: "ojs_replication_applied_records_total", help: "Records applied by this replica").increment(by: Double(records))
        registry.makeCounter(name: "ojs_replication_applied_bytes_total", help: "Record bytes applied by this replica").increment(by: Double(bytes))
        registry.makeDurationHistogram(name: "ojs_replication_apply_duration_seconds", buckets: Self.latencyBuckets, help: "Time to apply one batch")
            .record(duration)
    }

    /// A replica's lag as observed (primary: per report; replica: per apply).
    func observeLag(region: String, ms: Int64) {
        registry.makeValueHistogram(
            name: "ojs_replication_lag_seconds",
            labels: [("region", region)],
            buckets: Self.lagBuckets,
            help: "Replication lag observations"
        ).record(Double(ms) / 1000)
    }

    /// A write waited for its synchronous replicas, `acknowledged` or not within the timeout.
    func syncWait(_ duration: Duration, acknowledged: Bool) {
        registry.makeDurationHistogram(
            name: "ojs_sync_wait_seconds",
            labels: [("outcome", acknowledged ? "acknowledged" : "timeout")],
            buckets: Self.latencyBuckets,
            help: "Time a write's answer waited for its synchronous replicas' acknowledgements"
        ).record(duration)
    }

    /// A write's acknowledgements did not arrive within `--sync-timeout-ms`.
    func syncTimeout() {
        registry.makeCounter(name: "ojs_sync_timeouts_total", help: "Writes whose synchronous replicas did not acknowledge in time").increment()
    }

    /// A write answered without its acknowledgements under `--sync-degrade`.
    func syncDegradedWrite() {
        registry.makeCounter(
            name: "ojs_sync_degraded_writes_total",
            help: "Writes answered without their synchronous replicas' acknowledgements (--sync-degrade)"
        ).increment()
    }

    // MARK: scrape-time state

    /// Synchronous replication's state: whether writes are being answered without their
    /// acknowledgements (the alert), and how many replicas could acknowledge.
    func refreshSync(_ sync: SyncQuorum.Snapshot) {
        gauge("ojs_sync_replicas_required", help: "Replicas that must acknowledge a write (--sync-replicas)", Double(sync.required))
        gauge("ojs_sync_replicas_connected", help: "Replicas with an open stream that can acknowledge writes", Double(sync.connected))
        gauge(
            "ojs_sync_degraded",
            help: "1 while writes answered under --sync-degrade are not yet on the required replicas (a failover may lose them)",
            sync.degraded ? 1 : 0
        )
    }

    /// Moves a monotonically growing figure read from elsewhere into a counter.
    func counter(_ name: String, labels: [(String, String)] = [], help: String, total: Double) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let delta = counterTotals.withLock { totals -> Double in
            let d = total - (totals[key] ?? 0)
            totals[key] = total
            return d
        }
        if delta > 0 { registry.makeCounter(name: name, labels: labels, help: help).increment(by: delta) }
    }

    func gauge(_ name: String, labels: [(String, String)] = [], help: String, _ value: Double) {
        registry.makeGauge(name: name, labels: labels, help: help).set(value)
    }

    func refreshJobs(store: Store) async throws {
        let now = store.clock()
        let (queues, _) = try await store.queues(limit: 1000, offset: 0)
        for q in queues {
            for state in JobState.allCases {
                gauge("ojs_jobs", labels: [("queue", q.name), ("state", state.rawValue)], help: "Jobs by queue and state", Double(q.counts[state]))
            }
            gauge("ojs_queue_paused", labels: [("queue", q.name)], help: "1 when the queue is paused", q.paused ? 1 : 0)
            gauge(
                "ojs_queue_oldest_available_age_seconds",
                labels: [("queue", q.name)],
                help: "Age of the oldest available job",
                q.oldestAvailableAt.map { Double(max(0, now - $0)) / 1000 } ?? 0
            )
        }
        let dlq = try await store.deadLetterStats()
        gauge("ojs_dead_letter_jobs", help: "Jobs in the dead-letter queue", Double(dlq.total))
        gauge("ojs_dead_letter_oldest_age_seconds", help: "Age of the oldest dead letter", dlq.oldest.map { Double(max(0, now - $0)) / 1000 } ?? 0)
    }

    /// Event streams open against their bound (`--max-event-streams`): past the bound new
    /// streams get 503, so an alert on the ratio warns before consoles and subscribers are refused.
    func refreshEventStreams(open: Int, limit: Int) {
        gauge("ojs_event_streams", help: "Event streams (GET /ojs/v1/events/stream) open on this node", Double(open))
        gauge("ojs_event_streams_limit", help: "Event streams this node accepts at once", Double(limit))
    }

    /// The single writer's queue and the WAL: what an operator needs to see a stuck writer or
    /// a WAL that a long reader keeps from shrinking (`docs/ojs-alerts.yml`).
    func refreshWriter(_ writer: Writer) {
        let w = writer.health
        gauge("ojs_writer_queue_depth", help: "Write requests waiting for the writer", Double(w.queueDepth))
        gauge(
            "ojs_writer_oldest_waiting_seconds",
            help: "Age of the oldest write request not yet answered (0 when none waits)",
            Double(w.oldestWaitingMs) / 1000
        )
        gauge("ojs_writer_seconds_since_last_batch", help: "Time since the writer last finished a transaction", Double(w.sinceLastBatchMs) / 1000)
        gauge("ojs_wal_bytes", help: "Size of the SQLite -wal file", Double(w.walBytes))
        for (outcome, total) in [("ok", w.checkpoints.ok), ("busy", w.checkpoints.busy), ("error", w.checkpoints.error)] {
            counter(
                "ojs_wal_checkpoints_total",
                labels: [("outcome", outcome)],
                help: "WAL checkpoints by outcome: ok (WAL can start over), busy (a reader still needs frames), error",
                total: Double(total)
            )
        }
    }

    func refreshPrimary(source: ReplicationSource, now: Int64) {
        let s = source.stats
        counter(
            "ojs_replication_capture_failures_total",
            help: "Commits whose replication capture failed (each starts a new generation)",
            total: Double(s.captureFailures)
        )
        counter("ojs_replication_records_shipped_total", help: "Records captured into the replication log", total: Double(s.capturedRecords))
        counter("ojs_replication_bytes_shipped_total", help: "Compressed record bytes captured", total: Double(s.recordBytes))
        counter("ojs_replication_raw_page_bytes_total", help: "Uncompressed page bytes captured", total: Double(s.capturedWALBytes))
        counter(
            "ojs_replication_snapshots_total",
            help: "Snapshot images made (a resumed download reuses one)",
            total: Double(source.snapshotsServed)
        )
        gauge("ojs_replication_snapshot_transfers", help: "Snapshot bodies being sent now", Double(source.snapshots.activeTransfers))
        gauge("ojs_replication_log_bytes", help: "Bytes retained in the replication log", Double(s.logBytes))
        gauge("ojs_replication_last_txid", help: "Newest transaction in the log", Double(s.lastTxid))
        for e in source.replicas.entries(lastTxid: s.lastTxid, now: now) {
            let labels = [("region", e.region)]
            gauge("ojs_replication_lag_ms", labels: labels, help: "Replica lag in milliseconds", Double(e.lagMs))
            gauge("ojs_replication_lag_transactions", labels: labels, help: "Replica lag in transactions", Double(e.lagTransactions))
            gauge("ojs_replication_lag_bytes", labels: labels, help: "Replica lag in record bytes", Double(e.lagBytes))
            gauge(
                "ojs_replication_replica_connected",
                labels: labels,
                help: "1 unless the replica is disconnected",
                e.state == "disconnected" ? 0 : 1
            )
        }
    }

    func refreshReplica(tailer: ReplicaTailer, region: String, now: Int64) {
        let s = tailer.status.current
        gauge("ojs_replication_lag_ms", labels: [("region", region)], help: "Replica lag in milliseconds", Double(s.lagMs(now: now)))
        gauge("ojs_replication_lag_transactions", labels: [("region", region)], help: "Replica lag in transactions", Double(s.lagTransactions))
        gauge("ojs_replication_applied_txid", help: "Newest transaction applied here", Double(s.appliedTxid))
        counter("ojs_replication_snapshots_total", help: "Snapshots this replica bootstrapped from", total: Double(s.bootstraps))
        counter("ojs_replication_received_bytes_total", help: "Stream bytes received", total: Double(s.bytesReceived))
        for kind in ReplicaFault.Kind.allCases {
            gauge(
                "ojs_replication_replica_fault",
                labels: [("kind", kind.rawValue)],
                help: "1 while the replica keeps its copy and backs off for this reason",
                s.fault?.kind == kind ? 1 : 0
            )
            counter(
                "ojs_replication_replica_failed_attempts_total",
                labels: [("kind", kind.rawValue)],
                help: "Failed requests to the primary by reason",
                total: Double(s.faultCounts[kind] ?? 0)
            )
        }
        gauge("ojs_replication_pending_bytes", help: "Received record bytes waiting to be applied", Double(s.pendingBytes))
        gauge("ojs_replication_backpressured", help: "1 while the stream is not read because the apply buffer is full", s.backpressured ? 1 : 0)
    }
}
