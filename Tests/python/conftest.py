"""Fixtures for tests that drive a social-gateway process with standard Python clients."""
import base64, hashlib, hmac, json, os, socket, subprocess, tempfile, time, urllib.request

import pytest

SECRET = "python-tests-secret-0123456789abcdef"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub: str, ttl: int = 3600) -> str:
    """An HS256 access token, minted with the standard library only."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": sub, "exp": int(time.time()) + ttl}).encode())
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis():
    """A throwaway redis-server on a free port (no persistence); `restart()` kills and restarts it."""
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    state = {"proc": None}

    def start():
        state["proc"] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def restart():
        state["proc"].kill()
        state["proc"].wait()
        time.sleep(0.5)
        start()

    start()
    yield {"url": f"redis://127.0.0.1:{port}/0", "restart": restart}
    state["proc"].kill()
    state["proc"].wait()


@pytest.fixture
def gateway(request):
    """A gateway on a fresh embedded store; extra flags from `@pytest.mark.parametrize(..., indirect=True)`."""
    binary = os.environ.get("SOCIAL_GATEWAY_BIN", os.path.join(ROOT, ".build/debug/social-gateway"))
    port = free_port()
    data = tempfile.mkdtemp(prefix="gw-py-")
    log = open(os.path.join(data, "gateway.log"), "w")
    extra = list(getattr(request, "param", []))
    if extra and callable(extra[0]):  # a function of the other fixtures: (request) -> flags
        extra = extra[0](request)
    proc = subprocess.Popen([binary, "--port", str(port), "--jwt-secret", SECRET, "--data-dir", data] + extra,
                            stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("gateway did not start: " + open(log.name).read())
    yield {"port": port, "http": base, "ws": f"ws://127.0.0.1:{port}/ws", "log": log.name, "pid": proc.pid}
    proc.terminate()
    assert proc.wait(timeout=20) == 0, open(log.name).read()
