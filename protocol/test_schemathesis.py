"""The backend API does what protocol/openapi.yaml says: Schemathesis generates requests from the spec (examples,
boundary values, fuzzing; not the stateful phase) and runs every check (`--checks all`) against a gateway, with a
token that holds every scope. It must find nothing. Settings and their reasons: protocol/schemathesis.toml.

Schemathesis lives in a virtual environment of its own (scripts/install-deps.sh --test); the test is skipped, saying
so, where it is not installed. Run from the repository root: python3 -m pytest protocol/test_schemathesis.py -q
"""
import base64, hashlib, hmac, json, os, shutil, subprocess, sys, time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Tests" / "python"))
from conftest import SECRET, b64, gateway  # noqa: E402,F401  (the gateway fixture)


def schemathesis():
    venv = Path(os.environ.get("SCHEMATHESIS_VENV", Path.home() / ".cache/social-gateway/schemathesis"))
    for candidate in (os.environ.get("SCHEMATHESIS_BIN"), venv / "bin" / "st", shutil.which("st")):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def backend_token():
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "svc-conformance", "exp": int(time.time()) + 3600,
                           "scope": "social:admin social:post social:notify"}).encode())
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def test_the_api_conforms_to_its_spec(gateway, tmp_path):
    st = schemathesis()
    if st is None:
        pytest.skip("Schemathesis is not installed (scripts/install-deps.sh --test puts it in "
                    "~/.cache/social-gateway/schemathesis, or set SCHEMATHESIS_BIN)")
    result = subprocess.run(
        [st, "--no-color", "--config-file", str(HERE / "schemathesis.toml"), "run", str(HERE / "openapi.yaml"),
         "--url", gateway["http"], "-H", "Authorization: Bearer " + backend_token(),
         "--checks", "all", "--phases", "examples,coverage,fuzzing", "--workers", "1",
         "--generation-deterministic"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-20000:]
    assert "Tested: 9" in report or "9 selected" in report, report[-3000:]
