"""An oversized request line or header block gets an answer, not a dropped connection (protocol/openapi.yaml,
"Request limits"): a request target of 8192 bytes or more gets 414, a head that does not fit the 16 KiB header space
gets 431, each with a problem body, on the API, the plain endpoints and the WebSocket upgrade; the node keeps serving."""
import json, socket, time

import pytest


def exchange(port, raw: bytes) -> bytes:
    """Sends a raw request and reads until the server closes or goes quiet (1 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(raw)
        s.settimeout(1)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def status_and_body(response: bytes):
    assert response, "the connection closed without an answer"
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), lines[0]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    return int(lines[0].split()[1]), headers, json.loads(body[:length])


def get(target: bytes, extra: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"Connection: close\r\n\r\n"


UPGRADE = (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")


def test_a_long_request_target_gets_414_with_a_problem_body(gateway):
    port = gateway["port"]
    for target in (b"/api/v1/users/u1/notifications?before=" + b"1" * 9000, b"/healthz?" + b"a" * 8200,
                   b"/api/v1/" + b"x" * 8192):
        status, headers, body = status_and_body(exchange(port, get(target)))
        assert status == 414 and headers["content-type"] == "application/problem+json", (status, headers)
        assert body["status"] == 414 and "8192" in body["detail"]
    # A target just under the bound is served as usual (401: no token).
    status, _, _ = status_and_body(exchange(port, get(b"/api/v1/users/u1/notifications?x=" + b"1" * 8000)))
    assert status == 401


def test_a_long_upgrade_target_gets_414_with_the_handshake_body(gateway):
    status, _, body = status_and_body(exchange(gateway["port"], get(b"/ws?device_id=" + b"d" * 9000, UPGRADE)))
    assert status == 414 and body["error"]["code"] == "uri_too_long"


@pytest.mark.parametrize("extra", [
    b"X-Large: " + b"v" * 20000 + b"\r\n",                                  # one header over the space
    b"".join(b"Cookie: c%d=%s\r\n" % (i, b"v" * 900) for i in range(20)),   # many headers that add up
])
def test_a_head_over_the_header_space_gets_431_and_the_node_keeps_serving(gateway, extra):
    port = gateway["port"]
    for request in (get(b"/api/v1/bots", extra), get(b"/healthz", extra), get(b"/ws", UPGRADE + extra)):
        status, headers, body = status_and_body(exchange(port, request))
        assert status == 431 and headers["content-type"] == "application/problem+json", (status, headers)
        assert body["status"] == 431 and headers["connection"] == "close"
    status, _, body = status_and_body(exchange(port, get(b"/healthz")))
    assert status == 200 and body == {"status": "ok"}


def test_too_many_query_parameters_get_431(gateway):
    target = b"/healthz?" + b"&".join(b"p%d=1" % i for i in range(300))
    status, _, body = status_and_body(exchange(gateway["port"], get(target)))
    assert status == 431 and body["status"] == 431


def test_overflowing_heads_are_counted(gateway):
    for _ in range(3):
        exchange(gateway["port"], get(b"/healthz", b"X-Large: " + b"v" * 20000 + b"\r\n"))
    line = ""
    for _ in range(30):  # the service thread publishes its counts every second
        metrics = exchange(gateway["port"], get(b"/metrics")).decode(errors="replace")
        line = next((l for l in metrics.splitlines() if l.startswith("social_request_heads_too_large_total")), "")
        if line and float(line.split()[-1]) >= 3:
            return
        time.sleep(0.2)
    pytest.fail("social_request_heads_too_large_total: " + line)
