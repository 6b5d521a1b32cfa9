#!/usr/bin/env python3
"""The REST proxy's added latency: `proxy.request` through a gateway against
the same request sent straight to the same upstream, over loopback.

It starts the echo upstream (Tests/upstream/echo_upstream.py) and a gateway
proxying `training` to it, then, one call at a time (latency, not throughput):
  direct  GET /v1/workouts?limit=20 with http.client on a kept-alive connection
  ping    a WebSocket `ping` (answered by the gateway's lws thread: the
          transport's own round trip, for reference)
  proxy   the same GET as `proxy.request` on a WebSocket
and prints p50/p90/p99 of each and of proxy minus direct.

  python3 loadtest/proxy_latency.py --gateway-bin .build/release/social-gateway [--calls 5000]

Needs Python's `websockets` (>= 12). Both clients are Python, so their own
costs are similar but not equal; the ping line shows the WebSocket part.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from websockets.sync.client import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "proxy-bench-secret-0123456789abcdef"
PATH = "/v1/workouts?limit=20"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": sub, "exp": int(time.time()) + 3600}).encode())
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return pick(0.50), pick(0.90), pick(0.99)


def report(name, samples):
    p50, p90, p99 = percentiles(samples)
    print(f"{name:<22} p50 {p50 * 1e6:8.0f} µs   p90 {p90 * 1e6:8.0f} µs   p99 {p99 * 1e6:8.0f} µs   mean {statistics.mean(samples) * 1e6:8.0f} µs")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway-bin", default=os.path.join(ROOT, ".build/release/social-gateway"))
    parser.add_argument("--calls", type=int, default=5000, help="measured calls of each kind")
    parser.add_argument("--warmup", type=int, default=300)
    args = parser.parse_args()

    upstream = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/upstream/echo_upstream.py")],
                                stdout=subprocess.PIPE, text=True)
    upstream_port = int(upstream.stdout.readline().split()[1])
    port = free_port()
    data = tempfile.mkdtemp(prefix="proxy-bench-")
    log = open(os.path.join(data, "gateway.log"), "w")
    gateway = subprocess.Popen([
        args.gateway_bin, "--port", str(port), "--jwt-secret", SECRET, "--store", "memory", "--log-level", "warning",
        "--upstream", f"training=http://127.0.0.1:{upstream_port}", "--upstream-allow", "training=GET:/v1/workouts",
    ], stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        direct_conn = http.client.HTTPConnection("127.0.0.1", upstream_port)
        user_token = token("bench-user")
        headers = {"Authorization": f"Bearer {user_token}", "X-User-Id": "bench-user", "X-Device-Id": "bench",
                   "X-Request-Id": "0" * 32, "Accept": "application/json"}

        def direct():
            direct_conn.request("GET", PATH, headers=headers)
            response = direct_conn.getresponse()
            body = response.read()
            assert response.status == 200, response.status
            json.loads(body)

        with connect(f"ws://127.0.0.1:{port}/ws?device_id=bench", subprotocols=["social.v1"],
                     additional_headers={"Authorization": f"Bearer {user_token}"}, compression=None) as ws:
            json.loads(ws.recv())  # hello
            counter = iter(range(1, 10**9))

            def command(op, payload):
                ident = next(counter)
                ws.send(json.dumps({"id": ident, "op": op, "args": payload}))
                while True:
                    frame = json.loads(ws.recv())
                    if frame.get("id") == ident:
                        return frame

            def ping():
                assert "ok" in command("ping", {})

            def proxy():
                reply = command("proxy.request", {"service": "training", "method": "GET", "path": PATH})
                assert reply.get("ok", {}).get("status") == 200, reply

            kinds = {"direct": direct, "ping": ping, "proxy": proxy}
            for run in kinds.values():
                for _ in range(args.warmup):
                    run()
            samples = {name: [] for name in kinds}
            # Interleaved, so a noisy moment on the machine hits every kind alike.
            for _ in range(args.calls):
                for name, run in kinds.items():
                    start = time.perf_counter()
                    run()
                    samples[name].append(time.perf_counter() - start)

        print(f"{args.calls} calls each, one at a time, GET {PATH} (echo of ~{len(json.dumps(headers)) + 150} bytes)")
        report("direct HTTP", samples["direct"])
        report("WebSocket ping", samples["ping"])
        report("proxy.request", samples["proxy"])
        d50 = percentiles(samples["proxy"])[0] - percentiles(samples["direct"])[0]
        d99 = percentiles(samples["proxy"])[2] - percentiles(samples["direct"])[2]
        print(f"{'added by the proxy':<22} p50 {d50 * 1e6:8.0f} µs                  p99 {d99 * 1e6:8.0f} µs   (proxy minus direct, per percentile)")
    finally:
        gateway.terminate()
        upstream.terminate()
        gateway.wait(timeout=30)
        upstream.wait(timeout=10)


if __name__ == "__main__":
    main()
