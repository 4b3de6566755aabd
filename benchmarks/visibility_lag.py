#!/usr/bin/env python3
"""Replica visibility lag measured from outside (issue 20, goal 4).

Starts a primary and one replica (release build) on loopback. A load thread pushes batches to
the primary at --rate jobs per second; a probe pushes one marker job to the primary every
--probe-ms and polls the replica (`GET /ojs/v1/jobs/<id>`, no bookmark, so the replica answers
from its own copy) every millisecond until it sees the job. For each marker it records the
time from the primary's answer to the first replica read that sees it (a lower bound of
commit-to-visible: the commit happened before the answer) and from the moment the push was
sent (an upper bound). Reports p50/p99/max of both and the load actually achieved. The
replica's own apply-lag counters are not used. Standard library only.

    python3 benchmarks/visibility_lag.py --binary .build/release/ojs-edge --rate 5000 --seconds 20
"""
import argparse, http.client, json, os, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, stop, wait_healthy

HEADERS = {"Content-Type": "application/openjobspec+json"}


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))]


def load(port, rate, batch, deadline, counts):
    """Pushes `batch` jobs per request, paced to `rate` jobs per second."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"jobs": [{"type": "bench.visibility", "args": [i, "x" * 64]} for i in range(batch)]})
    interval = batch / rate
    next_at = time.perf_counter()
    while time.time() < deadline:
        conn.request("POST", "/ojs/v1/jobs/batch", body, HEADERS)
        r = conn.getresponse()
        r.read()
        if r.status in (200, 201):
            counts["jobs"] += batch
        else:
            counts["errors"] += 1
        next_at += interval
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)


def probe(pport, rport, deadline, every_ms, lower, upper, misses):
    push = http.client.HTTPConnection("127.0.0.1", pport, timeout=30)
    read = http.client.HTTPConnection("127.0.0.1", rport, timeout=30)
    n = 0
    while time.time() < deadline:
        n += 1
        sent = time.perf_counter()
        push.request("POST", "/ojs/v1/jobs", json.dumps({"type": "bench.marker", "args": [n]}), HEADERS)
        r = push.getresponse()
        data = r.read()
        answered = time.perf_counter()
        if r.status != 201:
            misses.append(f"push {r.status}")
            continue
        job_id = json.loads(data)["job"]["id"]
        give_up = answered + 5
        while True:
            read.request("GET", f"/ojs/v1/jobs/{job_id}")
            g = read.getresponse()
            g.read()
            now = time.perf_counter()
            if g.status == 200 and g.getheader("OJS-Served-By", "").startswith("replica/"):
                lower.append((now - answered) * 1000)
                upper.append((now - sent) * 1000)
                break
            if now > give_up:
                misses.append(job_id)
                break
            time.sleep(0.001)
        rest = every_ms / 1000 - (time.perf_counter() - sent)
        if rest > 0:
            time.sleep(rest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/ojs-edge")
    ap.add_argument("--rate", type=int, default=5000, help="background jobs per second pushed to the primary")
    ap.add_argument("--batch", type=int, default=100, help="jobs per batch push of the background load")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--probe-ms", type=int, default=20, help="one marker push every this many ms")
    ap.add_argument("--synchronous", default="NORMAL")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="ojs-visibility-")
    pport, rport = free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen(
            [args.binary, "serve", "--port", str(pport), "--data-dir", f"{root}/p", "--synchronous", args.synchronous,
             "--log-level", "error"]))
        wait_healthy(pport)
        procs.append(subprocess.Popen(
            [args.binary, "replica", "--primary", f"http://127.0.0.1:{pport}", "--region", "lag", "--port", str(rport),
             "--data-dir", f"{root}/r", "--log-level", "error"]))
        wait_healthy(rport)
        deadline = time.time() + args.seconds
        counts = {"jobs": 0, "errors": 0}
        lower, upper, misses = [], [], []
        started = time.time()
        threads = [
            threading.Thread(target=load, args=(pport, args.rate, args.batch, deadline, counts)),
            threading.Thread(target=probe, args=(pport, rport, deadline, args.probe_ms, lower, upper, misses)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - started
        report = {
            "rate_target": args.rate,
            "jobs_per_s": round(counts["jobs"] / elapsed),
            "load_errors": counts["errors"],
            "markers": len(lower),
            "missed": len(misses),
            "visible_after_answer_ms": {"p50": pct(lower, 0.5), "p99": pct(lower, 0.99), "max": max(lower, default=None)},
            "visible_after_send_ms": {"p50": pct(upper, 0.5), "p99": pct(upper, 0.99), "max": max(upper, default=None)},
        }
        for key in ("visible_after_answer_ms", "visible_after_send_ms"):
            report[key] = {k: (round(v, 2) if v is not None else None) for k, v in report[key].items()}
        print(json.dumps(report, indent=2))
        return 0 if lower and not misses else 1
    finally:
        stop(procs)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
