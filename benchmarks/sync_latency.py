#!/usr/bin/env python3
"""The latency cost of synchronous replicas (`--sync-replicas`).

For each N in --modes (default 0 and 1) starts a fresh primary (release build) with
`--sync-replicas N` and one local replica, waits until the replica streams, then pushes
small jobs: first --sequential pushes back to back on one connection, then for --seconds
with --clients concurrent clients (one connection each). Reports p50/p99/max push latency
and throughput per phase, plus the primary's `ojs_sync_wait_seconds` mean and the replica's
acknowledgement round trip. Standard library only; loopback only.

    python3 benchmarks/sync_latency.py --binary .build/release/ojs-edge
"""
import argparse, http.client, json, os, platform, shutil, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, stop, wait_healthy

HEADERS = {"Content-Type": "application/openjobspec+json"}
BODY = json.dumps({"type": "bench.sync", "args": [1, "x" * 64]})

def pct(values, p):
    if not values: return None
    s = sorted(values); return s[min(len(s) - 1, int(len(s) * p))]

def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path); r = c.getresponse(); data = r.read(); c.close()
    return r.status, data

def push_loop(port, deadline, count, out, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while (count is None or n < count) and (deadline is None or time.time() < deadline):
        t = time.perf_counter()
        conn.request("POST", "/ojs/v1/jobs", BODY, HEADERS)
        r = conn.getresponse(); r.read()
        dt = time.perf_counter() - t
        if r.status == 201: out.append(dt)
        else: errors.append(r.status)
        n += 1
    conn.close()

def summary(latencies, errors, seconds):
    ms = [x * 1000 for x in latencies]
    return {"pushes": len(ms), "errors": len(errors), "p50_ms": round(pct(ms, 0.5), 3), "p99_ms": round(pct(ms, 0.99), 3),
            "max_ms": round(max(ms), 3), "per_second": round(len(ms) / seconds, 1)}

def sync_wait(port):
    _, data = get(port, "/metrics")
    total = count = 0.0
    for line in data.decode().splitlines():
        if line.startswith("ojs_sync_wait_seconds_sum"): total += float(line.split()[-1])
        if line.startswith("ojs_sync_wait_seconds_count"): count += float(line.split()[-1])
    return round(total / count * 1000, 3) if count else None

def run(binary, n, args):
    root = tempfile.mkdtemp(prefix="ojs-sync-bench-")
    pport, rport = free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen([binary, "serve", "--port", str(pport), "--data-dir", f"{root}/p", "--log-level", "error",
                                       "--sync-replicas", str(n)], stderr=subprocess.DEVNULL))
        wait_healthy(pport)
        procs.append(subprocess.Popen([binary, "replica", "--primary", f"http://127.0.0.1:{pport}", "--region", "bench",
                                       "--port", str(rport), "--data-dir", f"{root}/r", "--log-level", "error"], stderr=subprocess.DEVNULL))
        wait_healthy(rport)
        end = time.time() + 30
        while time.time() < end:
            _, data = get(rport, "/ojs/v1/replication/status")
            if json.loads(data).get("state") == "streaming": break
            time.sleep(0.05)
        warm, e = [], []
        push_loop(pport, None, 200, warm, e)
        result = {"sync_replicas": n}
        seq, errors = [], []
        t0 = time.time(); push_loop(pport, None, args.sequential, seq, errors); seq_s = time.time() - t0
        result["sequential"] = summary(seq, errors, seq_s)
        lat, errs, threads = [], [], []
        deadline = time.time() + args.seconds
        t0 = time.time()
        for _ in range(args.clients):
            th = threading.Thread(target=push_loop, args=(pport, deadline, None, lat, errs)); th.start(); threads.append(th)
        for th in threads: th.join()
        result[f"concurrent_{args.clients}"] = summary(lat, errs, time.time() - t0)
        result["sync_wait_mean_ms"] = sync_wait(pport)
        _, data = get(rport, "/ojs/v1/replication/status")
        status = json.loads(data)
        result["replica_ack_round_trip_us"] = status.get("ack_round_trip_us")
        result["replica_apply_lag_ms"] = status.get("apply_lag_ms")
        return result
    finally:
        stop(procs)
        shutil.rmtree(root, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/ojs-edge")
    ap.add_argument("--modes", default="0,1", help="comma-separated --sync-replicas values")
    ap.add_argument("--sequential", type=int, default=2000, help="pushes on one connection")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10, help="length of the concurrent phase")
    args = ap.parse_args()
    print(json.dumps({"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                      "command": " ".join(sys.argv)}))
    for n in [int(x) for x in args.modes.split(",")]:
        print(json.dumps(run(args.binary, n, args)), flush=True)

if __name__ == "__main__":
    main()
