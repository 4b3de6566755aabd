#!/usr/bin/env python3
"""The batch-push ceiling of issue 20: raw SQLite inserting the rows a batch push writes.

    benchmarks/raw_sqlite_insert.py --server .build/release/ojs-edge --synchronous FULL \\
        --duration 8 --warmup 2

Batch push (1000 jobs per request) should reach at least 0.60 × this program's jobs/s in the
same suite run. It measures what SQLite alone costs for the same rows on the same disk, with
nothing of the server around it: no HTTP, no JSON parsing, no group-commit queue, no
savepoints, no RETURNING, no replication capture.

What it does, and nothing else:
  1. `<ojs-edge> migrations export DIR`, then applies those .sql files in order to a fresh
     database in a temporary directory, recording them in `d1_migrations` as the store does;
  2. opens it with the writer connection's PRAGMAs (`Connection.swift`, `Writer.swift`):
     journal_mode=WAL, synchronous=FULL|NORMAL, temp_store=MEMORY, cache_size=-16384,
     foreign_keys=ON, journal_size_limit=8 MiB, busy_timeout 5000 ms. The store turns
     SQLite's automatic checkpoint off and runs a PASSIVE checkpoint itself after a commit
     once the WAL holds 1000 frames (`Writer.checkpointFrames`); here
     `wal_autocheckpoint=1000` does that same passive checkpoint at the same threshold;
  3. creates the `bench` queue row once (the store inserts it on the first push to the
     queue; later pushes only read it);
  4. for the warm-up and then the measured window, runs transactions of `--batch` (1000)
     jobs: `BEGIN IMMEDIATE`; one `jobs` row per job with the columns `Store.insert` sets
     (UUIDv7 id, type, queue, state 'available', priority 0, FIFO seq from `now << 10`,
     max_attempts 3, created_at and enqueued_at = now, and the `doc` JSON text the server
     stores for ojs-bench's job `{"type":"bench.job","queue":"bench","args":[n,"x"*64]}`);
     one `job.enqueued` row in `events` per job (`EventLog.record`); one
     `UPDATE replication_position SET txid, committed_at, last_seq` (the writer, once per
     transaction); `COMMIT`. Both inserts are prepared statements run by executemany.

Row values are built in Python before each BEGIN (about 2.5 ms per 1000 rows here, 10-20 % of
the window): that is the measuring program's cost, not SQLite's, so `jobs_per_s` and
`requests_per_s` (transactions) are per second spent between BEGIN and COMMIT, the rate SQLite
sustains when fed without pause. `wall_jobs_per_s` counts the whole window, and `prep_share`
is the share of it spent building rows. Prints one JSON object shaped like ojs-bench's
(latency is per transaction, BEGIN to COMMIT). Standard library only.
"""
import argparse, json, os, random, resource, shutil, sqlite3, subprocess, sys, tempfile, time

# The store's writer connection (Connection.swift, Writer.swift), in the order it sets them.
JOURNAL_SIZE_LIMIT_BYTES = 8 << 20  # Writer.journalSizeLimitBytes
CACHE_SIZE = -16384  # KiB: Connection's `cache_size`
BUSY_TIMEOUT_MS = 5000  # Connection.Options.busyTimeoutMs
CHECKPOINT_FRAMES = 1000  # Writer.checkpointFrames: passive checkpoint past this many WAL frames

# What ojs-bench's job looks like once stored (`JobSpec.document()` with default retry policy).
QUEUE, JOB_TYPE, PAYLOAD_BYTES = "bench", "bench.job", 64
RETRY = ('{"max_attempts":3,"initial_interval":"PT1S","backoff_coefficient":2.0,"max_interval":"PT5M",'
         '"jitter":true,"non_retryable_errors":[],"on_exhaustion":"discard","backoff_strategy":"exponential"}')

INSERT_JOB = """INSERT INTO jobs (id, type, queue, state, priority, seq, max_attempts, created_at, enqueued_at, run_at,
  expires_at, timeout_ms, visibility_timeout_ms, unique_key, rate_key, workflow_id, workflow_step,
  parent_results, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
# Since migration 0009 an event has no stored id (it is `evt_<seq>`); before it, a UUIDv7.
INSERT_EVENT = "INSERT INTO events (type, subject, queue, job_type, time, data) VALUES (?, ?, ?, ?, ?, ?)"
INSERT_EVENT_WITH_ID = "INSERT INTO events (id, type, subject, queue, job_type, time, data) VALUES (?, ?, ?, ?, ?, ?, ?)"
UPDATE_POSITION = "UPDATE replication_position SET txid = ?, committed_at = ?, last_seq = ? WHERE id = 1"
LEDGER = """CREATE TABLE IF NOT EXISTS d1_migrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);"""


def uuid7(millis, bits=random.getrandbits):
    """A UUIDv7 as the store's `UUIDv7.make` writes it: 48-bit Unix ms, version 7, variant 10."""
    a, b = bits(12), bits(62)
    return "%08x-%04x-7%03x-%04x-%012x" % (millis >> 16, millis & 0xFFFF, a, 0x8000 | (b >> 48), b & 0xFFFFFFFFFFFF)


def export_migrations(server, directory):
    subprocess.run([server, "migrations", "export", directory], check=True, capture_output=True)
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".sql"))


def open_database(path, synchronous, migration_files):
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise SystemExit(f"journal_mode is {mode}, not wal")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_FRAMES}")
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute(f"PRAGMA cache_size={CACHE_SIZE}")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
    # Migrations.apply: the ledger, then every migration in one transaction with one position bump.
    # (one script: Python's executescript commits any transaction opened outside it).
    now = int(time.time() * 1000)
    script = [LEDGER, "BEGIN IMMEDIATE;"]
    for f in migration_files:
        name = os.path.basename(f).replace("'", "''")
        script += [open(f).read(), f"INSERT INTO d1_migrations (name) VALUES ('{name}');"]
    script += [f"UPDATE replication_position SET txid = txid + 1, committed_at = {now} WHERE id = 1;", "COMMIT;"]
    db.executescript("\n".join(script))
    db.execute("INSERT INTO queues (name, created_at) VALUES (?, ?)", (QUEUE, now))
    return db


class Rows:
    """The rows of one transaction, with the writer's FIFO sequence and position carried over."""

    def __init__(self, db):
        self.txid, self.last_seq = db.execute("SELECT txid, last_seq FROM replication_position WHERE id = 1").fetchone()
        self.filler = "x" * PAYLOAD_BYTES
        self.n = 0
        # Whatever the exported migrations made: the older schema stored an id per event.
        self.event_ids = any(col[1] == "id" for col in db.execute("PRAGMA table_info(events)"))

    def batch(self, count):
        now = int(time.time() * 1000)
        jobs, events = [], []
        seq = self.last_seq
        for _ in range(count):
            seq = max(seq + 1, now << 10)  # WriteContext.nextSeq
            job_id = uuid7(now)
            doc = '{"args":[%d,"%s"],"meta":{},"retry":%s}' % (self.n % count, self.filler, RETRY)
            self.n += 1
            jobs.append((job_id, JOB_TYPE, QUEUE, "available", 0, seq, 3, now, now, None,
                         None, None, None, None, None, None, None, None, doc))
            event_id = ("evt_" + uuid7(now),) if self.event_ids else ()
            events.append(event_id + ("job.enqueued", job_id, QUEUE, JOB_TYPE, now,
                           '{"job_id":"%s","job_type":"%s","queue":"%s","state":"available"}' % (job_id, JOB_TYPE, QUEUE)))
        self.last_seq = seq
        self.txid += 1
        return jobs, events, (self.txid, now, seq)


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def run(args):
    tmp = tempfile.mkdtemp(prefix="ojs-raw-sqlite-", dir=args.dir)
    try:
        files = export_migrations(args.server, os.path.join(tmp, "migrations"))
        db = open_database(os.path.join(tmp, "raw.db"), args.synchronous, files)
        rows = Rows(db)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        start = time.monotonic()
        window_start = start + args.warmup
        end = window_start + args.duration
        latencies, jobs, prep, in_sqlite = [], 0, 0.0, 0.0
        while True:
            t0 = time.monotonic()
            if t0 >= end:
                break
            job_rows, event_rows, position = rows.batch(args.batch)
            t1 = time.monotonic()
            db.execute("BEGIN IMMEDIATE")
            db.executemany(INSERT_JOB, job_rows)
            db.executemany(INSERT_EVENT_WITH_ID if rows.event_ids else INSERT_EVENT, event_rows)
            db.execute(UPDATE_POSITION, position)
            db.execute("COMMIT")
            t2 = time.monotonic()
            # Like ojs-bench: only transactions that finish inside the window count.
            if t0 >= window_start and t2 <= end:
                latencies.append((t2 - t1) * 1000)
                jobs += len(job_rows)
                prep += t1 - t0
                in_sqlite += t2 - t1
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("jobs", "events")}
        db.close()
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    latencies.sort()
    elapsed = args.duration
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    return {
        "scenario": f"raw_sqlite_batch:{args.batch}",
        "synchronous": args.synchronous,
        "connections": 1,
        "duration_s": elapsed,
        "jobs": jobs,
        "jobs_per_s": round(jobs / in_sqlite, 1) if in_sqlite else 0,
        "requests_per_s": round(len(latencies) / in_sqlite, 2) if in_sqlite else 0,
        "wall_jobs_per_s": round(jobs / elapsed, 1),
        "prep_share": round(prep / elapsed, 3),
        "errors": 0,
        "failures": [],
        "latency_ms": {"p50": round(percentile(latencies, 0.50), 3) if latencies else 0,
                       "p99": round(percentile(latencies, 0.99), 3) if latencies else 0,
                       "p99_9": round(percentile(latencies, 0.999), 3) if latencies else 0,
                       "max": round(latencies[-1], 3) if latencies else 0},
        # This program is the whole "server": its CPU over the run (warm-up included).
        "client_cores": round(cpu / (args.warmup + elapsed), 3),
        "rows_total": counts,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the ojs-edge binary whose `migrations export` gives the schema")
    ap.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    ap.add_argument("--batch", type=int, default=1000, help="jobs per transaction")
    ap.add_argument("--duration", type=float, default=8)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--dir", default=None, help="where to make the temporary database (default: $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="keep the database (its directory goes to stderr)")
    args = ap.parse_args()
    json.dump(run(args), sys.stdout)
    print()


if __name__ == "__main__":
    main()
