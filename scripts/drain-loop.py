#!/usr/bin/env python3
"""Drains a busy gateway again and again, to catch a crash at shutdown.

Each run starts a gateway on a fresh embedded store, connects --clients users who
share a group and send messages and pings without pause, sends SIGTERM while the
traffic flows (at a random moment), keeps sending during the drain, and waits for
the process to exit. A run passes when the gateway exits 0; a signal (SIGSEGV...)
or another status fails it, and its log and any core file (core dumps are turned
on, in the run's directory) are kept. Prints one line per failure and a summary.

    scripts/drain-loop.py --runs 100 [--clients 20] [--binary .build/debug/social-gateway]
"""
import argparse, asyncio, json, os, random, resource, shutil, signal, socket, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "python"))
import websockets  # noqa: E402
from conftest import SECRET, free_port, token  # noqa: E402


def allow_cores():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


async def client(url, user, group, stop):
    try:
        async with websockets.connect(url, additional_headers={"Authorization": "Bearer " + token(user)}) as ws:
            await ws.recv()
            await ws.send(json.dumps({"id": 1, "op": "group.join", "args": {"group_id": group}}))
            i = 2
            while not stop.is_set():
                op = {"id": i, "op": "chat.send", "args": {"chat_id": group, "text": f"m{i}"}} if i % 3 else \
                     {"id": i, "op": "ping"}
                await ws.send(json.dumps(op))
                i += 1
                if i % 20 == 0:
                    await asyncio.sleep(0.01)
                    while True:  # read what is there without waiting
                        try:
                            await asyncio.wait_for(ws.recv(), timeout=0.001)
                        except asyncio.TimeoutError:
                            break
    except (websockets.ConnectionClosed, OSError, websockets.InvalidStatus):
        pass


async def one_run(binary, clients, workdir):
    port = free_port()
    log = open(os.path.join(workdir, "gateway.log"), "w")
    proc = subprocess.Popen([binary, "--port", str(port), "--jwt-secret", SECRET, "--data-dir", workdir,
                             "--drain-timeout", "3", "--rate-limits", "off"],
                            stdout=log, stderr=log, cwd=workdir, preexec_fn=allow_cores)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    url = f"ws://127.0.0.1:{port}/ws"
    async with websockets.connect(url, additional_headers={"Authorization": "Bearer " + token("owner")}) as owner:
        await owner.recv()
        await owner.send(json.dumps({"id": 1, "op": "group.create", "args": {"title": "drain", "open": True}}))
        group = None
        while group is None:
            for line in (await owner.recv()).split("\n"):
                if line and json.loads(line).get("id") == 1:
                    group = json.loads(line)["ok"]["group"]["group_id"]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(client(url, f"u{i}", group, stop)) for i in range(clients)]
        await asyncio.sleep(random.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(random.uniform(0.0, 0.5))
        stop.set()
        await asyncio.gather(*tasks)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "hung"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--binary", default=".build/debug/social-gateway")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    failures = 0
    started = time.time()
    for run in range(1, args.runs + 1):
        workdir = tempfile.mkdtemp(prefix="drain-")
        status = asyncio.run(one_run(binary, args.clients, workdir))
        if run % 10 == 0:
            print(f"{run} drains, {failures} failed so far, {time.time() - started:.0f} s", flush=True)
        if status == 0:
            shutil.rmtree(workdir, ignore_errors=True)
            continue
        failures += 1
        what = f"signal {-status}" if isinstance(status, int) and status < 0 else f"status {status}"
        cores = [f for f in os.listdir(workdir) if f.startswith("core")]
        print(f"run {run}: {what}; log and cores ({cores}) kept in {workdir}", flush=True)
    print(f"{args.runs} drains, {failures} failed, {time.time() - started:.0f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
