"""Helpers the benchmark scripts share: free loopback ports and waiting for a server."""
import http.client, socket, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_healthy(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2); c.request("GET", "/ojs/v1/health")
            if c.getresponse().status == 200: return
        except OSError: pass
        time.sleep(0.05)
    raise SystemExit(f"server on {port} did not become healthy")
