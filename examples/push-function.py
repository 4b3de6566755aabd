#!/usr/bin/env python3
"""A minimal function for ojs-edge push delivery (docs/serverless.md), standard library only.

    OJS_SECRET=whsec-long-random-string python3 examples/push-function.py 9000

Every POST is one delivery: it checks X-OJS-Signature over the exact body bytes, then
answers the receipt. Paths choose the outcome, so the walk-through can show each one:
/ok completes with a result, /fail answers a failed receipt, anything else is a 404
(which disables the endpoint: try it).
"""
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("OJS_SECRET", "").encode()


class Delivery(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-OJS-Signature", "")):
            return self.answer(401, {"error": "bad signature"})
        job = json.loads(body)["job"]
        print(f"delivery {self.headers['X-OJS-Delivery-ID']} job {job['id']} attempt {job['attempt']}", flush=True)
        if self.path == "/ok":
            return self.answer(200, {"status": "completed", "result": {"handled": job["args"]}})
        if self.path == "/fail":
            return self.answer(200, {"status": "failed", "error": {"code": "example_failure", "message": "failed on purpose"}})
        return self.answer(404, {"error": "no such function"})

    def answer(self, status, receipt):
        data = json.dumps(receipt).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    if not SECRET:
        sys.exit("set OJS_SECRET to the secret of the binding")
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    ThreadingHTTPServer(("127.0.0.1", port), Delivery).serve_forever()
