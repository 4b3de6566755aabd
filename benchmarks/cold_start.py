#!/usr/bin/env python3
"""Cold start: exec of `ojs-edge serve` to the first 200 from `GET /ojs/v1/health` (standard library only).

    swift build -c release --product ojs-edge
    benchmarks/cold_start.py                          # empty dir, then 1,000,000 jobs; 5 trials each
    benchmarks/cold_start.py --jobs 100000 --trials 3
    benchmarks/cold_start.py --template /tmp/filled   # reuse a stopped server's data dir (filled once)
    benchmarks/cold_start.py --json                   # one JSON object on stdout

The full case fills a template directory once through the API (batch pushes of 1000 jobs,
64-byte args as `ojs-bench batch:1000` sends), stops that server with SIGTERM, and copies the
template to a fresh directory before every trial, so each start sees the same files (a start
can checkpoint or truncate the WAL and the replication log). Health is polled over a raw
socket every millisecond; the server is killed (SIGKILL, as a serverless platform recycles a
process) between trials. Reports each trial and the median.
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from benchlib import free_port  # noqa: E402

HEALTH = b"GET /ojs/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def health_status(port):
    """The status code of one health request, or None while nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(HEALTH)
            head = b""
            while b"\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                head += chunk
            return int(head.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        return None


def start(server, data_dir, port):
    return subprocess.Popen([server, "serve", "--port", str(port), "--data-dir", data_dir, "--log-level", "error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill(p, sig=signal.SIGKILL):
    if p.poll() is None:
        os.killpg(p.pid, sig)
    p.wait(30)


def one_start(server, data_dir, timeout=120):
    """Milliseconds from exec to the first 200 from health."""
    port = free_port()
    t0 = time.monotonic()
    p = start(server, data_dir, port)
    try:
        while True:
            if health_status(port) == 200:
                return (time.monotonic() - t0) * 1000
            if p.poll() is not None:
                raise RuntimeError(f"server exited with {p.returncode} before it was healthy")
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("server did not become healthy")
            time.sleep(0.001)
    finally:
        kill(p)


def fill(server, data_dir, jobs, connections=4, batch=1000):
    """Pushes `jobs` jobs in batches, then stops the server cleanly (SIGTERM)."""
    port = free_port()
    p = start(server, data_dir, port)
    try:
        while health_status(port) != 200:
            if p.poll() is not None:
                raise RuntimeError("fill server exited")
            time.sleep(0.01)
        payload = "x" * 64
        body = ('{"jobs":[' + ",".join(f'{{"type":"bench.job","queue":"bench","args":[{n},"{payload}"]}}'
                                       for n in range(batch)) + "]}").encode()
        request = (f"POST /ojs/v1/jobs/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        remaining = [jobs // batch]
        lock = threading.Lock()
        errors = []

        def worker():
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                f = s.makefile("rb")
                while True:
                    with lock:
                        if remaining[0] == 0:
                            return
                        remaining[0] -= 1
                    s.sendall(request)
                    status = int(f.readline().split(b" ", 2)[1])
                    length = 0
                    while (line := f.readline()) not in (b"\r\n", b""):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    f.read(length)
                    if status != 200 and status != 201:
                        errors.append(status)
                        return

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(f"batch push failed: {errors[:3]}")
        print(f"filled {jobs} jobs in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    finally:
        kill(p, signal.SIGTERM)


def trials(server, make_dir, count):
    times = []
    for _ in range(count):
        d = make_dir()
        try:
            times.append(one_start(server, d))
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return {"trials_ms": [round(t, 1) for t in times], "median_ms": round(statistics.median(times), 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default=os.path.join(ROOT, ".build/release/ojs-edge"))
    ap.add_argument("--jobs", type=int, default=1_000_000, help="jobs in the full case (0: skip it)")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--template", help="a stopped server's data dir to copy for the full case; "
                                       "filled with --jobs first if it does not exist")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ojs-cold-")
    try:
        result = {"empty": trials(a.server, lambda: tempfile.mkdtemp(dir=tmp), a.trials)}
        print(f"empty data dir: {result['empty']}", file=sys.stderr, flush=True)
        if a.jobs:
            template = a.template or os.path.join(tmp, "template")
            if not os.path.exists(template):
                fill(a.server, template, a.jobs)

            def copy():
                d = os.path.join(tmp, f"run-{time.monotonic_ns()}")
                shutil.copytree(template, d)
                return d

            size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(template) for f in fs)
            result["full"] = trials(a.server, copy, a.trials)
            result["full"]["jobs"] = a.jobs
            result["full"]["data_mb"] = round(size / 2**20, 1)
            print(f"{a.jobs} jobs ({result['full']['data_mb']} MB): {result['full']}", file=sys.stderr, flush=True)
        if a.json:
            print(json.dumps(result))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
