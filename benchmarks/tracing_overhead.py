#!/usr/bin/env python3
"""Push throughput with tracing off and on, in one run (release build).

Starts `ojs-edge serve` without any OTEL_* variable (tracing off: no tracer bootstrapped),
then with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local OTLP/HTTP sink that accepts and
discards spans (tracing on: request and enqueue spans exported as protobuf). Each round
starts a fresh server and data directory; rounds alternate off/on so drift on a shared
machine hits both alike. Pushes come from client processes (not threads: the GIL would cap
the client first), each with one kept-alive connection. Standard library only.

    swift build -c release --product ojs-edge
    python3 benchmarks/tracing_overhead.py --rounds 3 --seconds 10
"""
import argparse, http.client, http.server, json, multiprocessing, os, shutil, socket, statistics, subprocess, tempfile, time

from benchlib import free_port, wait_healthy

class Sink(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that counts export requests and keeps nothing."""
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0"); self.end_headers()
        with self.server.counter.get_lock(): self.server.counter.value += 1
    def log_message(self, *a): pass

def run_sink(port, counter):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink)
    server.counter = counter
    server.serve_forever()

def pusher(port, start_at, stop_at, out):
    body = json.dumps({"type": "bench.trace", "args": [1, "x" * 64], "options": {"queue": "bench"}})
    headers = {"Content-Type": "application/json"}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() < start_at: time.sleep(0.001)
    n = 0
    while time.time() < stop_at:
        c.request("POST", "/ojs/v1/jobs", body, headers)
        r = c.getresponse(); r.read()
        if r.status != 201: raise SystemExit(f"push failed: {r.status}")
        n += 1
    out.put(n)

def cpu_seconds(pid):
    """User plus system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def measure(binary, traced, sink_port, args):
    """Pushes per second, and the server's CPU microseconds per push (less sensitive to
    other load on a shared machine than the rate)."""
    root = tempfile.mkdtemp(prefix="ojs-trace-bench-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if traced:
        env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
        env.update(dict(kv.split("=", 1) for kv in args.on_env))
    server = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", root, "--log-level", "error",
                               "--synchronous", args.synchronous], stderr=subprocess.DEVNULL, env=env)
    try:
        wait_healthy(port)
        out = multiprocessing.Queue()
        start_at = time.time() + 0.5
        stop_at = start_at + args.seconds
        procs = [multiprocessing.Process(target=pusher, args=(port, start_at, stop_at, out)) for _ in range(args.clients)]
        for p in procs: p.start()
        while time.time() < start_at: time.sleep(0.001)
        cpu_before = cpu_seconds(server.pid)
        total = sum(out.get() for _ in procs)
        cpu = cpu_seconds(server.pid) - cpu_before
        for p in procs: p.join()
        return total / args.seconds, 1e6 * cpu / max(total, 1)
    finally:
        server.terminate(); server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/release/ojs-edge")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--synchronous", default="FULL")
    ap.add_argument("--on-env", action="append", default=[], metavar="OTEL_X=value",
                    help="extra environment for the traced server, e.g. OTEL_TRACES_SAMPLER=always_off")
    args = ap.parse_args()
    sink_port = free_port()
    exports = multiprocessing.Value("i", 0)
    sink = multiprocessing.Process(target=run_sink, args=(sink_port, exports), daemon=True)
    sink.start()
    rates = {False: [], True: []}
    cpu = {False: [], True: []}
    try:
        for r in range(args.rounds):
            for traced in (False, True):
                rate, us = measure(args.binary, traced, sink_port, args)
                rates[traced].append(rate)
                cpu[traced].append(us)
                print(f"round {r + 1} tracing {'on ' if traced else 'off'}: {rate:8.0f} pushes/s {us:6.0f} server CPU us/push", flush=True)
    finally:
        sink.terminate()
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    cpu_off, cpu_on = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(json.dumps({"clients": args.clients, "seconds": args.seconds, "rounds": args.rounds, "synchronous": args.synchronous,
                      "rate_off_median": round(off), "rate_on_median": round(on), "rate_drop_pct": round(100 * (off - on) / off, 1),
                      "cpu_us_per_push_off": round(cpu_off), "cpu_us_per_push_on": round(cpu_on),
                      "cpu_increase_pct": round(100 * (cpu_on - cpu_off) / cpu_off, 1), "otlp_export_requests": exports.value}))

if __name__ == "__main__":
    main()
