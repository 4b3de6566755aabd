#!/usr/bin/env python3
"""What the console's live overview costs the node it polls, against the old dashboard's
polling, in the same run on the same data (standard library only).

    swift build -c release --product ojs-edge
    benchmarks/console_cost.py                                  # 20 queues x 5,000 jobs, 60 s a mode
    benchmarks/console_cost.py --queues 50 --seconds 30 --json
    benchmarks/console_cost.py --browser /usr/bin/chromium      # also the real page in headless Chromium
    benchmarks/console_cost.py --seconds 10 --queues 10 --max-ratio 1.0   # what CI runs

Each mode refreshes once a second for `--seconds`, against one server holding the same data:

- `dashboard`: exactly the requests the old `/ojs/dashboard` page made per refresh (it is gone
  from the binary; its calls were `GET /ojs/v1/replication/status`, `GET /ojs/v1/queues?limit=200`,
  `GET /ojs/v1/admin/dead-letter/stats`, then `GET /ojs/v1/queues/<name>/stats` for each queue);
- `console`: what the console's overview makes: `GET /ojs/v1/admin/overview?after=<cursor>`,
  with its event stream (`GET /ojs/v1/events/stream?types=job.failed,job.discarded`) held open;
- `browser` (with `--browser`): the real `/ojs/admin/#/overview` in headless Chromium.

The cost is the server process's CPU time (utime + stime from /proc) over the mode, divided by
the refreshes; requests and response bytes are counted from the client side. Idle-server CPU is
measured first for the same duration and subtracted.
"""
import argparse, http.client, json, os, shutil, signal, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from benchlib import free_port, stop, wait_healthy  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def call(conn, method, path, body=None):
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data else None, len(data)


def seed(port, queues, per_queue, dead):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for q in range(queues):
        left = per_queue
        while left:
            n = min(left, 1000)
            jobs = [{"type": "bench.console", "args": [i], "options": {"queue": f"queue-{q:02d}"}} for i in range(n)]
            call(conn, "POST", "/ojs/v1/jobs/batch", {"jobs": jobs})
            left -= n
    jobs = [{"type": "bench.fail", "args": [], "options": {"queue": "failing", "retry": {"max_attempts": 1, "on_exhaustion": "dead_letter"}}}
            for _ in range(dead)]
    if jobs:
        call(conn, "POST", "/ojs/v1/jobs/batch", {"jobs": jobs})
        got, _ = call(conn, "POST", "/ojs/v1/workers/fetch", {"queues": ["failing"], "count": dead})
        for job in got["jobs"]:
            call(conn, "POST", "/ojs/v1/workers/nack", {"job_id": job["id"], "error": {"code": "boom", "type": "Boom", "message": "x", "retryable": False}})
    conn.close()


def paced(seconds, refresh):
    """Calls refresh() once a second for `seconds`; returns (refreshes, requests, bytes)."""
    refreshes = requests = size = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        tick = time.monotonic()
        r, b = refresh()
        refreshes += 1; requests += r; size += b
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    return refreshes, requests, size


def dashboard_mode(port, seconds):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    def refresh():
        n = 0; size = 0
        for path in ["/ojs/v1/replication/status", "/ojs/v1/queues?limit=200", "/ojs/v1/admin/dead-letter/stats"]:
            body, b = call(conn, "GET", path); n += 1; size += b
            if path.startswith("/ojs/v1/queues"):
                names = [q["name"] for q in body["queues"]]
        for name in names:
            _, b = call(conn, "GET", f"/ojs/v1/queues/{name}/stats"); n += 1; size += b
        return n, size
    return paced(seconds, refresh)


def console_mode(port, seconds):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    stream = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds + 30)
    stream.request("GET", "/ojs/v1/events/stream?types=job.failed,job.discarded", headers={"Accept": "text/event-stream"})
    response = stream.getresponse()
    if response.status != 200:
        raise SystemExit(f"event stream: {response.status}")
    def drain():
        try:
            response.read()
        except (OSError, AttributeError, http.client.HTTPException):
            pass  # the stream is closed under it at the end of the mode
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    cursor = [None]
    def refresh():
        path = "/ojs/v1/admin/overview" + (f"?after={cursor[0]}" if cursor[0] else "")
        body, b = call(conn, "GET", path)
        cursor[0] = body["throughput"]["cursor"]
        return 1, b
    result = paced(seconds, refresh)
    stream.close()
    return result


def browser_mode(port, seconds, chromium):
    profile = tempfile.mkdtemp(prefix="console-cost-chromium-")
    p = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                          "--remote-debugging-port=0", f"http://127.0.0.1:{port}/ojs/admin/#/overview"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(seconds)
    finally:
        p.terminate(); p.wait(10); shutil.rmtree(profile, ignore_errors=True)
    return seconds, None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/ojs-edge"))
    ap.add_argument("--queues", type=int, default=20)
    ap.add_argument("--jobs-per-queue", type=int, default=5000)
    ap.add_argument("--dead-letters", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--browser", help="a Chromium binary: also measure the real page")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--max-ratio", type=float, help="exit 1 when the console costs more than this times the dashboard (CI uses 1.0)")
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="console-cost-")
    port = free_port()
    server = subprocess.Popen([a.bin, "serve", "--port", str(port), "--data-dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port)
        seed(port, a.queues, a.jobs_per_queue, a.dead_letters)
        time.sleep(2)  # let the seeding's commits and captures settle before any window opens
        before = cpu_seconds(server.pid); time.sleep(a.seconds); idle = (cpu_seconds(server.pid) - before) / a.seconds
        results = {"idle_cpu_ms_per_s": round(idle * 1000, 2)}
        modes = [("dashboard", lambda: dashboard_mode(port, a.seconds)), ("console", lambda: console_mode(port, a.seconds))]
        if a.browser:
            modes.append(("browser", lambda: browser_mode(port, a.seconds, a.browser)))
        for name, run in modes:
            before = cpu_seconds(server.pid)
            start = time.monotonic()
            refreshes, requests, size = run()
            elapsed = time.monotonic() - start
            cpu = cpu_seconds(server.pid) - before - idle * elapsed
            results[name] = {"refreshes": refreshes, "requests_per_refresh": requests / refreshes if requests else None,
                             "bytes_per_refresh": round(size / refreshes) if size else None,
                             "server_cpu_ms_per_refresh": round(cpu * 1000 / refreshes, 2)}
        d, c = results["dashboard"]["server_cpu_ms_per_refresh"], results["console"]["server_cpu_ms_per_refresh"]
        results["console_over_dashboard"] = round(c / d, 3) if d > 0 else None
        results["setup"] = {"queues": a.queues, "jobs_per_queue": a.jobs_per_queue, "dead_letters": a.dead_letters, "seconds": a.seconds}
    finally:
        stop([server]); shutil.rmtree(data, ignore_errors=True)
    if a.json:
        print(json.dumps(results))
    else:
        for k, v in results.items():
            print(f"{k}: {v}")
    ratio = results.get("console_over_dashboard")
    if a.max_ratio is not None and (ratio is None or ratio > a.max_ratio):
        print(f"console costs {ratio} of the dashboard's polling, over the limit {a.max_ratio}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
