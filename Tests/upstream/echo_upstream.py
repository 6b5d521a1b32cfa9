"""A REST upstream for the proxy tests and the proxy benchmark.

Started by `SocialTesting.UpstreamTestServer`: binds 127.0.0.1 on a free port
(or the one given as the first argument), prints `READY <port>` and serves
HTTP/1.1 with keep-alive, one thread per connection.

  any path            200, JSON echo of the request: method, path (with query),
                      headers (names in lower case) and body (parsed JSON)
  .../slow?ms=N       the echo after N milliseconds
  .../status/NNN      status NNN with the echo (a 5xx counts as a failure)
  .../text            text/plain
  .../binary          application/octet-stream
  .../big?bytes=N     a JSON string of N bytes
  .../chunked         the echo in chunked transfer coding
  .../_control/fail   POST {"fail": true|false}: while true every other path answers 503
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FAILING = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the second
    # waits for the client's delayed ACK (40 ms on Linux).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        echo = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }
        if url.path.endswith("/_control/fail"):
            if body and body.get("fail"):
                FAILING.set()
            else:
                FAILING.clear()
            return self.reply(200, echo)
        if FAILING.is_set():
            return self.reply(503, {"error": "failing on purpose"}, extra={"Retry-After": "1"})
        if url.path.endswith("/slow"):
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
        if "/status/" in url.path:
            return self.reply(int(url.path.rsplit("/", 1)[1]), echo)
        if url.path.endswith("/text"):
            return self.send_bytes(200, b"plain words\n", "text/plain; charset=utf-8")
        if url.path.endswith("/binary"):
            return self.send_bytes(200, bytes(range(256)), "application/octet-stream")
        if url.path.endswith("/big"):
            return self.reply(200, "x" * int(query.get("bytes", ["1000"])[0]))
        if url.path.endswith("/chunked"):
            data = json.dumps(echo).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 7):
                part = data[i : i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return None
        return self.reply(200, echo)

    def reply(self, status, value, extra=None):
        headers = {"ETag": '"v1"', "Cache-Control": "private, max-age=5", "X-Internal-Secret": "not-for-clients"}
        headers.update(extra or {})
        return self.send_bytes(status, json.dumps(value).encode(), "application/json", headers)

    def send_bytes(self, status, data, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return None

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
