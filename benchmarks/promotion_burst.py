#!/usr/bin/env python3
"""Push latency while 50,000 scheduled jobs fall due at one instant (issue 16, "due burst").

Starts a primary (release build) and, with --replica, one replica. Schedules --jobs jobs with
--args-bytes of args each (batch pushes under the 1 MiB body limit), all due at the same
instant a little after the last is pushed. From just before that instant until every job is
available, one connection pushes single small jobs back to back and times each push. Prints
max / p99 / p50 push latency inside the promotion window, how long the promotion took, and
(with --replica) whether the replication generation held, how many times the replica
bootstrapped, and whether it caught up. Standard library only; loopback only.

    python3 benchmarks/promotion_burst.py --jobs 50000 --args-bytes 3500 --replica
"""
import argparse, http.client, json, os, platform, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, stop, wait_healthy

HEADERS = {"Content-Type": "application/openjobspec+json"}

def request(conn, method, path, body=None):
    conn.request(method, path, body, HEADERS)
    r = conn.getresponse(); data = r.read()
    return r.status, data

def get_json(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, data = request(c, "GET", path); c.close()
    return status, json.loads(data) if data else None

def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)

def pct(values, p):
    if not values: return None
    s = sorted(values); return s[min(len(s) - 1, int(len(s) * p))]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/ojs-edge")
    ap.add_argument("--jobs", type=int, default=50_000)
    ap.add_argument("--args-bytes", type=int, default=3500)
    ap.add_argument("--batch", type=int, default=250, help="jobs per batch push (stay under the 1 MiB body limit)")
    ap.add_argument("--lead-seconds", type=float, default=5, help="due this long after the last job is pushed")
    ap.add_argument("--replica", action="store_true", help="also run a replica and check it converges without a bootstrap")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="ojs-burst-")
    pport, rport = free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen([args.binary, "serve", "--port", str(pport), "--data-dir", f"{root}/p", "--log-level", "error"],
                                      stderr=subprocess.DEVNULL))
        wait_healthy(pport)
        if args.replica:
            procs.append(subprocess.Popen([args.binary, "replica", "--primary", f"http://127.0.0.1:{pport}", "--region", "burst",
                                           "--port", str(rport), "--data-dir", f"{root}/r", "--log-level", "error"], stderr=subprocess.DEVNULL))
            wait_healthy(rport)
        # The instant must fall after the last push: time one calibration batch (due in an
        # hour, in its own queue), then schedule the burst with a margin over the estimate.
        payload = "x" * args.args_bytes
        conn = http.client.HTTPConnection("127.0.0.1", pport, timeout=60)
        def batch(queue, n, due):
            jobs = [{"type": "burst", "args": [payload], "options": {"queue": queue, "scheduled_at": iso(due)}} for _ in range(n)]
            status, data = request(conn, "POST", "/ojs/v1/jobs/batch", json.dumps({"jobs": jobs}))
            assert status in (200, 201), (status, data[:300])
        start = time.time()
        batch("calibrate", args.batch, int((time.time() + 3600) * 1000))
        estimate_s = (time.time() - start) * args.jobs / args.batch
        due_ms = int((time.time() + estimate_s * 1.5 + args.lead_seconds) * 1000)
        t0 = time.time()
        pushed = 0
        while pushed < args.jobs:
            n = min(args.batch, args.jobs - pushed)
            batch("burst", n, due_ms)
            pushed += n
        push_s = time.time() - t0
        left = due_ms / 1000 - time.time()
        if left < 1:
            print(json.dumps({"error": f"pushing took {push_s:.1f} s, past the due instant; raise --lead-seconds"})); sys.exit(2)
        _, before = get_json(pport, "/ojs/v1/replication/status")
        # Probe pushes from 1 s before the instant until every job is available.
        latencies = []  # (sent_at, seconds)
        done = threading.Event()
        promoted_at = [None]
        def prober():
            c = http.client.HTTPConnection("127.0.0.1", pport, timeout=30)
            body = json.dumps({"type": "probe", "args": [1], "options": {"queue": "probe"}})
            while not done.is_set():
                s = time.time()
                status, _ = request(c, "POST", "/ojs/v1/jobs", body)
                latencies.append((s, time.time() - s, status))
        time.sleep(max(0, left - 1))
        thread = threading.Thread(target=prober); thread.start()
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            _, q = get_json(pport, "/ojs/v1/queues/burst/stats")
            if q["stats"]["available"] >= args.jobs:
                promoted_at[0] = time.time(); break
            time.sleep(0.05)
        time.sleep(1)
        done.set(); thread.join()
        due_s = due_ms / 1000
        window = [l for (s, l, st) in latencies if due_s <= s <= (promoted_at[0] or time.time())]
        errors = sum(1 for (_, _, st) in latencies if st not in (200, 201))
        _, after = get_json(pport, "/ojs/v1/replication/status")
        result = {
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
            "jobs": args.jobs, "args_bytes": args.args_bytes, "push_seconds": round(push_s, 1),
            "promotion_seconds": round(promoted_at[0] - due_s, 2) if promoted_at[0] else None,
            "probe_pushes_in_window": len(window),
            "push_latency_ms_in_window": {
                "max": round(max(window) * 1000, 1) if window else None,
                "p99": round(pct(window, 0.99) * 1000, 1) if window else None,
                "p50": round(pct(window, 0.50) * 1000, 1) if window else None,
            },
            "push_latency_ms_max_overall": round(max(l for (_, l, _) in latencies) * 1000, 1) if latencies else None,
            "probe_errors": errors,
            "generation_unchanged": before.get("generation") == after.get("generation"),
        }
        if args.replica:
            deadline = time.time() + 120
            rs = None
            while time.time() < deadline:
                _, rs = get_json(rport, "/ojs/v1/replication/status")
                _, ps = get_json(pport, "/ojs/v1/replication/status")
                if rs and rs.get("applied_txid", -1) >= ps.get("txid", 0): break
                time.sleep(0.2)
            result["replica"] = {"bootstraps": rs.get("bootstraps"), "applied_txid": rs.get("applied_txid"),
                                 "primary_txid": ps.get("txid"), "converged": rs.get("applied_txid", -1) >= ps.get("txid", 0),
                                 "state": rs.get("state")}
        print(json.dumps(result, indent=2))
        ok = promoted_at[0] is not None and window and max(window) < 1.0 and result["generation_unchanged"] and errors == 0
        if args.replica: ok = ok and result["replica"]["converged"] and result["replica"]["bootstraps"] == 1
        sys.exit(0 if ok else 1)
    finally:
        stop(procs)
        shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    main()
