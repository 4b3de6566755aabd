#!/usr/bin/env python3
"""Due burst: N scheduled jobs with large args fall due at the same instant.

Starts a primary and one replica (loopback only), pushes N jobs scheduled for one instant,
then watches the promotion: the worst latency of single pushes made meanwhile, the peak RSS of
both processes around the burst, whether the primary started a new generation or the replica
bootstrapped again, and how long the replica took to converge (same digest at the same txid).

    benchmarks/due_burst.py --binary .build/debug/ojs-edge --jobs 50000 --args-bytes 3500
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method, url, body=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_healthy(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if call("GET", url + "/ojs/v1/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} never became healthy")


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=".build/debug/ojs-edge")
    p.add_argument("--jobs", type=int, default=50_000)
    p.add_argument("--args-bytes", type=int, default=3500)
    p.add_argument("--batch", type=int, default=1000)
    a = p.parse_args()

    work = tempfile.mkdtemp(prefix="ojs-due-burst-")
    pport, rport = free_port(), free_port()
    env = dict(os.environ, OJS_MAX_BODY_BYTES=str(16 << 20))
    common = ["--host", "127.0.0.1", "--log-level", "warning"]
    primary = subprocess.Popen([a.binary, "serve", "--port", str(pport), "--data-dir", work + "/primary"] + common, env=env,
                               stderr=open(work + "/primary.log", "w"))
    base = f"http://127.0.0.1:{pport}"
    replica = None
    try:
        wait_healthy(base)
        replica = subprocess.Popen([a.binary, "replica", "--primary", base, "--region", "eu", "--port", str(rport),
                                    "--data-dir", work + "/replica"] + common, env=env, stderr=open(work + "/replica.log", "w"))
        rbase = f"http://127.0.0.1:{rport}"
        wait_healthy(rbase)
        gen_before = call("GET", base + "/ojs/v1/replication/status")[1]["generation"]
        boots_before = call("GET", rbase + "/ojs/v1/replication/status")[1]["bootstraps"]

        blob = "x" * a.args_bytes
        def batch(n, queue, scheduled):
            jobs = [{"type": "burst.due", "args": [blob, i], "options": {"queue": queue, "scheduled_at": scheduled}} for i in range(n)]
            s, r = call("POST", base + "/ojs/v1/jobs/batch", {"jobs": jobs}, timeout=600)
            assert s == 201, (s, str(r)[:300])

        far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        t0 = time.time()
        batch(a.batch, "calibrate", far)
        per_batch = time.time() - t0
        batches = (a.jobs + a.batch - 1) // a.batch
        due = time.time() + per_batch * batches * 1.5 + 15
        due_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due)) + ".000Z"
        print(f"pushing {a.jobs} jobs in {batches} batches (about {per_batch:.2f} s each), due at {due_text}", flush=True)
        for i in range(batches):
            batch(min(a.batch, a.jobs - i * a.batch), "burst", due_text)
        left = due - time.time()
        print(f"pushed; {left:.1f} s until they fall due", flush=True)
        assert left > 3, "pushing took longer than planned"
        time.sleep(left - 2)

        # Peak RSS from here on: writing 5 to clear_refs resets VmHWM.
        for pid in (primary.pid, replica.pid):
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        latencies = []
        stop = threading.Event()
        def prober():
            i = 0
            while not stop.is_set():
                t = time.time()
                s, _ = call("POST", base + "/ojs/v1/jobs", {"type": "burst.probe", "args": [i], "options": {"queue": "probe"}}, timeout=60)
                latencies.append((time.time() - t, s))
                i += 1
                time.sleep(0.02)
        threads = [threading.Thread(target=prober) for _ in range(2)]
        for t in threads:
            t.start()
        promoted_at = None
        deadline = time.time() + 600
        while time.time() < deadline:
            s, r = call("GET", base + "/ojs/v1/queues/burst/stats")
            if (r.get("queue") or {}).get("available") == a.jobs:
                promoted_at = time.time()
                promoted_txid = call("GET", base + "/ojs/v1/replication/status")[1]["txid"]
                break
            time.sleep(0.1)
        promoted_in = None if promoted_at is None else promoted_at - due
        # The replica has applied the promotion once its position reaches the primary's then.
        applied_at = None
        while promoted_at is not None and time.time() < deadline:
            if call("GET", rbase + "/ojs/v1/replication/status")[1].get("applied_txid", 0) >= promoted_txid:
                applied_at = time.time()
                break
            time.sleep(0.05)
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join()
        # Peaks of the burst itself, before the digests below (the digest endpoint buffers
        # every row, so it would dominate).
        primary_peak = rss_kib(primary.pid, "VmHWM")
        replica_peak = rss_kib(replica.pid, "VmHWM")
        # Convergence: the replica's digest equals the primary's at the same txid.
        converged_at = None
        while time.time() < deadline:
            pr = call("GET", base + "/ojs/v1/replication/digest")[1]
            rs = call("GET", rbase + "/ojs/v1/replication/status")[1]
            if rs.get("applied_txid", 0) >= pr["txid"]:
                rd = call("GET", rbase + "/ojs/v1/replication/digest")[1]
                if rd.get("txid") == pr["txid"] and rd.get("sha256") == pr["sha256"]:
                    converged_at = time.time()
                    break
            time.sleep(0.2)
        pstatus = call("GET", base + "/ojs/v1/replication/status")[1]
        rstatus = call("GET", rbase + "/ojs/v1/replication/status")[1]
        worst = max(l for l, _ in latencies) if latencies else None
        statuses = sorted({s for _, s in latencies})
        result = {
            "jobs": a.jobs, "args_bytes": a.args_bytes,
            "promoted_within_s_of_due": None if promoted_in is None else round(promoted_in, 2),
            "replica_applied_promotion_s_after_due": None if applied_at is None else round(applied_at - due, 2),
            "replica_digest_equal": converged_at is not None,
            "probe_pushes": len(latencies), "probe_statuses": statuses,
            "worst_push_latency_ms": None if worst is None else round(worst * 1000),
            "primary_peak_rss_mib_during_burst": round(primary_peak / 1024),
            "replica_peak_rss_mib_during_burst": round(replica_peak / 1024),
            "primary_peak_rss_mib_with_digest": round(rss_kib(primary.pid, "VmHWM") / 1024),
            "replica_peak_rss_mib_with_digest": round(rss_kib(replica.pid, "VmHWM") / 1024),
            "generation_changed": pstatus["generation"] != gen_before,
            "replica_bootstraps_added": rstatus["bootstraps"] - boots_before,
            "multi_record_transactions": pstatus.get("multi_record_transactions"),
            "captured_records": pstatus.get("captured_records"), "captured_transactions": pstatus.get("captured_transactions"),
            "primary_last_error": pstatus.get("last_error"), "replica_fault": rstatus.get("fault"),
            "primary_db_mib": round(os.path.getsize(work + "/primary/ojs.db") / 2**20),
        }
        print(json.dumps(result, indent=2))
    finally:
        for proc in (replica, primary):
            if proc:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
