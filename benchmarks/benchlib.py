"""Helpers the benchmark and soak scripts share: free loopback ports, waiting for a server,
stopping the processes a script started."""
import http.client, socket, subprocess, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def is_healthy(port, timeout=60):
    """Whether the server on `port` answers its health check with 200 within `timeout` s."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2); c.request("GET", "/ojs/v1/health")
            if c.getresponse().status == 200: return True
        except OSError: pass
        time.sleep(0.05)
    return False

def wait_healthy(port, timeout=60):
    if not is_healthy(port, timeout): raise SystemExit(f"server on {port} did not become healthy")

def stop(procs):
    """Terminates the processes this script started (newest first), killing any that linger."""
    for p in reversed(procs): p.terminate()
    for p in procs:
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill()
