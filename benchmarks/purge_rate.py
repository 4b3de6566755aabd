#!/usr/bin/env python3
"""How fast retention deletes a backlog (issue 16, "growth"): pushes --jobs small jobs that
all expire at one instant after the last push, lets the scheduler discard them (expiry, in chunks) and purge
them (--discarded-retention-seconds 1, --event-retention-seconds 1), and times the purge from
the moment every job is discarded until none is left. Prints jobs purged per second (each
with its events). Standard library only; loopback only.

    python3 benchmarks/purge_rate.py --jobs 200000
"""
import argparse, http.client, json, os, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, stop, wait_healthy

HEADERS = {"Content-Type": "application/openjobspec+json"}

def stats(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30); c.request("GET", "/ojs/v1/admin/stats")
    return json.loads(c.getresponse().read())["jobs"]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/ojs-edge")
    ap.add_argument("--jobs", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="ojs-purge-")
    port = free_port()
    procs = []
    try:
        procs.append(subprocess.Popen([args.binary, "serve", "--port", str(port), "--data-dir", f"{root}/p", "--log-level", "error",
                                       "--discarded-retention-seconds", "1", "--event-retention-seconds", "1"], stderr=subprocess.DEVNULL))
        wait_healthy(port)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.time()
        # One instant for every job, after the last push (pushes run at about 10,000 jobs/s here).
        at = time.time() + args.jobs / 5000 + 10
        instant = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + ".000Z"
        body = json.dumps({"jobs": [{"type": "p", "args": [1], "options": {"queue": "purge", "expires_at": instant}}
                                    for _ in range(args.batch)]})
        for _ in range(args.jobs // args.batch):
            c.request("POST", "/ojs/v1/jobs/batch", body, HEADERS); r = c.getresponse(); r.read()
            assert r.status in (200, 201), r.status
        pushed_s = time.time() - t0
        # Wait until the expiry has discarded all (or the purge has begun eating them).
        discarded_all_at = None
        while True:
            j = stats(port)
            alive = j.get("available", 0)
            if alive == 0 and discarded_all_at is None: discarded_all_at = time.time(); left_at_start = sum(j.values())
            if discarded_all_at and sum(j.values()) == 0: break
            time.sleep(0.2)
        done = time.time()
        print(json.dumps({"jobs": args.jobs, "push_seconds": round(pushed_s, 1),
                          "purged_after_expiry": left_at_start, "purge_seconds": round(done - discarded_all_at, 2),
                          "purge_jobs_per_second": round(left_at_start / max(0.001, done - discarded_all_at))}, indent=2))
    finally:
        stop(procs)
        shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    main()
