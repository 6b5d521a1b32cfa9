"""social-blast (loadtest/blast, the C benchmark driver) against the debug gateway, for
a couple of seconds per scenario, so that the driver cannot rot. Figures are not
checked here, only that every run verifies delivery (exit 0) and prints its report."""
import os, subprocess

import pytest

from conftest import ROOT, SECRET

GATEWAY = os.environ.get("SOCIAL_GATEWAY_BIN", os.path.join(ROOT, ".build/debug/social-gateway"))
BLAST = os.path.join(os.path.dirname(GATEWAY), "social-blast")


def blast(*args, timeout=60):
    assert os.access(BLAST, os.X_OK), f"no social-blast next to the gateway ({BLAST}): swift build --build-tests builds it"
    run = subprocess.run([BLAST, *args], capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "verified: yes" in run.stdout, run.stdout
    result = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    return dict(kv.split("=", 1) for kv in result.split()[1:] if "=" in kv)


def test_chat_against_a_running_gateway(gateway):
    r = blast("chat", "--port", str(gateway["port"]), "--jwt-secret", SECRET, "--gateway-pid", str(gateway["pid"]),
              "--groups", "4", "--members", "3", "--rate", "40", "--duration", "2")
    assert int(r["acked"]) > 0 and int(r["deliveries"]) == 3 * int(r["acked"])
    assert float(r["gw_cpu_s"]) >= 0


def test_pipeline_on_a_spawned_gateway():
    r = blast("pipeline", "--spawn", GATEWAY, "--rate-limits", "off", "--inflight", "4", "--duration", "2")
    assert int(r["acked"]) > 0 and r["deliveries"] == r["acked"]


def test_connect_and_hold():
    r = blast("connect", "--spawn", GATEWAY, "--connections", "50", "--hold", "1")
    assert r["opened"] == "50"
