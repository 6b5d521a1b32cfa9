#!/usr/bin/env python3
"""Loopback forwarders into a network namespace, for the partition tests.

Binds each LISTEN_PORT on 127.0.0.1 of the namespace it was started in (the
test's), then enters --netns and connects from there: every connection it
accepts is relayed, byte for byte in both directions, to TARGET_HOST:TARGET_PORT
inside the namespace, from SOURCE when given (so routes in the namespaces can
tell clients, probes and servers apart). Prints "ready" once everything is
bound. A connection whose target refuses or cannot be reached is closed.

    ns_forward.py --netns NAME --map LISTEN_PORT:TARGET_HOST:TARGET_PORT[:SOURCE] ...
"""
import argparse
import asyncio
import ctypes
import os
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000


def enter(namespace):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns {namespace}: {os.strerror(error)}")
    finally:
        os.close(fd)


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(listeners):
    for sock, host, port, source in listeners:
        async def relay(reader, writer, host=host, port=port, source=source):
            try:
                target_reader, target_writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port, local_addr=(source, 0) if source else None), 5)
            except (OSError, asyncio.TimeoutError):
                writer.close()
                return
            await asyncio.gather(pump(reader, target_writer), pump(target_reader, writer))

        await asyncio.start_server(relay, sock=sock, backlog=512)
    print("ready", flush=True)
    await asyncio.Event().wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netns", required=True)
    parser.add_argument("--map", action="append", default=[])
    args = parser.parse_args()
    # The test process may start us with signals blocked (inherited mask).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    listeners = []
    for mapping in args.map:
        parts = mapping.split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", int(parts[0])))
        sock.listen(512)
        sock.setblocking(False)
        listeners.append((sock, parts[1], int(parts[2]), parts[3] if len(parts) > 3 else None))
    enter(args.netns)  # sockets made from here on live in the namespace; the listeners stay where they are
    asyncio.run(serve(listeners))


if __name__ == "__main__":
    sys.exit(main())
