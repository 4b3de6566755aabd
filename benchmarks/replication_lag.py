#!/usr/bin/env python3
"""Replication lag on loopback under a steady write load.

Starts a primary and one replica (release build), pushes single jobs at a target rate for a
fixed time, then reads the replica's commit-to-apply lag percentiles and the primary's
stream compression ratio from /ojs/v1/replication/status. Standard library only.

    python3 benchmarks/replication_lag.py --rate 1000 --seconds 20
"""
import argparse, http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

from benchlib import free_port, stop, wait_healthy

def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10); c.request("GET", path)
    return json.loads(c.getresponse().read())

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/ojs-edge")
    ap.add_argument("--rate", type=int, default=1000, help="target transactions per second")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--synchronous", default="FULL")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="ojs-lag-")
    pport, rport = free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen([args.binary, "serve", "--port", str(pport), "--data-dir", f"{root}/p", "--log-level", "error",
                                       "--synchronous", args.synchronous], stderr=subprocess.DEVNULL))
        wait_healthy(pport)
        procs.append(subprocess.Popen([args.binary, "replica", "--primary", f"http://127.0.0.1:{pport}", "--region", "bench",
                                       "--port", str(rport), "--data-dir", f"{root}/r", "--log-level", "error"], stderr=subprocess.DEVNULL))
        wait_healthy(rport)
        sent = [0]; lock = threading.Lock()
        per_conn = args.rate / args.connections
        end_at = time.time() + args.seconds
        body = json.dumps({"type": "bench.lag", "args": [1, "x" * 64]})
        def worker():
            c = http.client.HTTPConnection("127.0.0.1", pport, timeout=10)
            start = time.time(); n = 0
            while time.time() < end_at:
                c.request("POST", "/ojs/v1/jobs", body, {"Content-Type": "application/json"}); c.getresponse().read()
                n += 1
                ahead = start + n / per_conn - time.time()
                if ahead > 0: time.sleep(ahead)
            with lock: sent[0] += n
        threads = [threading.Thread(target=worker) for _ in range(args.connections)]
        t0 = time.time(); [t.start() for t in threads]; [t.join() for t in threads]; elapsed = time.time() - t0
        time.sleep(1)
        replica = get(rport, "/ojs/v1/replication/status"); primary = get(pport, "/ojs/v1/replication/status")
        result = {
            "rate_target": args.rate, "rate_achieved": round(sent[0] / elapsed), "seconds": round(elapsed, 1),
            "synchronous": args.synchronous, "transactions": primary.get("txid"),
            "apply_lag_ms": replica.get("apply_lag_ms"),
            "stream_compression_ratio": primary.get("compression_ratio"),
            "captured_page_bytes": primary.get("captured_page_bytes"), "record_bytes": primary.get("record_bytes"),
        }
        print(json.dumps(result, indent=2))
    finally:
        stop(procs)
        shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    main()
