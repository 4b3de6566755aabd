"""Event streams (`GET /ojs/v1/events/stream`, docs/events.md): the memory a node holds for
idle streams, and the events per second one stream receives while producers push.

    python3 benchmarks/event_stream.py .build/release/ojs-edge [--streams 1000] [--seconds 10]

1. RSS (VmRSS) of a fresh primary with 0 streams, then with `--streams` idle streams open,
   each connected (`: connected` read) before the measurement.
2. Push sent to its answer, and to its event frame read from an open stream, 200 single pushes on an idle server.
3. One stream on `channel=all` while 4 producer threads push batches of 100 jobs for
   `--seconds`: events received per second, and the events the log recorded meanwhile (so
   the stream's rate can be compared with the write rate)."""
import argparse, http.client, json, os, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(__file__))
from benchlib import free_port, wait_healthy, stop

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])
    return 0

def open_stream(port, channel="all"):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /ojs/v1/events/stream?channel={channel} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
    data = b""
    while b": connected" not in data:
        chunk = s.recv(4096)
        if not chunk: raise SystemExit(f"stream closed early: {data[:300]!r}")
        data += chunk
    return s

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary"); ap.add_argument("--streams", type=int, default=1000); ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    port = free_port(); data = tempfile.mkdtemp(prefix="ojs-sse-bench-")
    env = dict(os.environ, OJS_MAX_EVENT_STREAMS=str(a.streams + 10), OJS_MAX_CONNECTIONS=str(a.streams + 100))
    p = subprocess.Popen([a.binary, "serve", "--port", str(port), "--data-dir", data, "--log-level", "error"], env=env)
    procs = [p]
    try:
        wait_healthy(port)
        time.sleep(1)  # let the process settle before the baseline reading
        base = rss_kib(p.pid)
        socks = [open_stream(port) for _ in range(a.streams)]
        time.sleep(1)
        held = rss_kib(p.pid)
        print(f"RSS: {base/1024:.1f} MiB with 0 streams, {held/1024:.1f} MiB with {len(socks)} idle streams "
              f"({(held-base)/len(socks):.1f} KiB per stream)")
        for s in socks: s.close()

        # Latency: a push sent -> its answer, and -> its job.enqueued frame on an open stream (idle server).
        probe = open_stream(port); probe.settimeout(5); c = http.client.HTTPConnection("127.0.0.1", port); delays = []; answers = []
        for i in range(200):
            sent = time.perf_counter()
            c.request("POST", "/ojs/v1/jobs", json.dumps({"type": "bench.latency", "args": [i]}), {"Content-Type": "application/openjobspec+json"})
            c.getresponse().read(); answers.append((time.perf_counter() - sent) * 1000); buf = b""
            while b"\n\n" not in buf.split(b"event: job.enqueued", 1)[-1] or b"event: job.enqueued" not in buf: buf += probe.recv(65536)
            delays.append((time.perf_counter() - sent) * 1000)
        probe.close(); delays.sort(); answers.sort()
        print(f"push sent -> answered: p50 {answers[100]:.2f} ms, p99 {answers[197]:.2f} ms; "
              f"-> its event read from the stream: p50 {delays[100]:.2f} ms, p99 {delays[197]:.2f} ms, max {delays[-1]:.2f} ms")

        stream = open_stream(port)
        received = 0; pushed = [0] * 4; stop_flag = threading.Event()
        def reader():
            nonlocal received
            stream.settimeout(1)
            while not stop_flag.is_set():
                try: chunk = stream.recv(1 << 16)
                except socket.timeout: continue
                if not chunk: return
                received += chunk.count(b"\nevent: ")
        def producer(n):
            c = http.client.HTTPConnection("127.0.0.1", port)
            body = json.dumps({"jobs": [{"type": "bench.sse", "args": [n, i]} for i in range(100)]})
            while not stop_flag.is_set():
                c.request("POST", "/ojs/v1/jobs/batch", body, {"Content-Type": "application/openjobspec+json"})
                if c.getresponse().read() and not stop_flag.is_set(): pushed[n] += 100
        t = threading.Thread(target=reader); t.start()
        workers = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
        before = received; start = time.time()
        for w in workers: w.start()
        time.sleep(a.seconds)
        stop_flag.set(); elapsed = time.time() - start
        for w in workers: w.join()
        time.sleep(1)
        got = received - before
        print(f"one stream under push load: {got} events in {elapsed:.1f} s = {got/elapsed:.0f} events/s "
              f"(producers had {sum(pushed)} pushes answered: {sum(pushed)/elapsed:.0f} job.enqueued events/s written)")
        stream.close(); t.join()
    finally:
        stop(procs)

main()
