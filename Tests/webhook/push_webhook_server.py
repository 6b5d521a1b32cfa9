#!/usr/bin/env python3
"""A stand-in for the company's push service, for the gateway's tests.

Listens on 127.0.0.1 (port 0: the kernel picks one), prints the port on the
first line of stdout, and appends every POST as one JSON line to --log:
{"path", "headers", "body", "status"} where body is the parsed JSON. Replies
503 to the first --fail-first requests, then --status (default 200).
"""
import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status", type=int, default=200)
    args = parser.parse_args()
    # The test process may start us with SIGTERM blocked (inherited mask): unblock it, so terminate() works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    lock = threading.Lock()
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            with lock:
                seen[0] += 1
                status = 503 if seen[0] <= args.fail_first else args.status
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with open(args.log, "a") as log:
                    log.write(json.dumps({"path": self.path, "headers": dict(self.headers.items()),
                                          "body": body, "status": status}) + "\n")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
