"""Commands over a real socket with a standard client (Python's websockets): every op refuses `args` that are not an
object with `invalid_args` (protocol/errors.md), and `ping` has a rate limit of its own (`--rate-ping`): a flood of
pings is refused with `rate_limited` and then closed with 4004, while another client's pings and commands pass."""
import asyncio, json

import pytest
import websockets

from conftest import token
from test_standard_clients import Messages


def bearer(user):
    return {"Authorization": "Bearer " + token(user)}


async def replies(messages, ids):
    """The replies to `ids`, by id (events in between are skipped)."""
    found = {}
    while len(found) < len(ids):
        message = await asyncio.wait_for(messages.next(), timeout=10)
        if message.get("id") in ids:
            found[message["id"]] = message
    return found


OPS = ["ping", "groups.list", "chats.list", "sync", "chat.history", "presence.query", "group.create",
       "notifications.list"]
NOT_OBJECTS = [[], ["x"], "x", 5, 0, True, False]


def test_args_that_are_not_an_object_get_invalid_args_for_every_op(gateway):
    async def run():
        async with websockets.connect(gateway["ws"], additional_headers=bearer("alice")) as ws:
            messages = Messages(ws)
            assert (await messages.next())["event"] == "hello"
            commands, next_id = {}, 1
            for op in OPS:
                for args in NOT_OBJECTS:
                    commands[next_id] = (op, args)
                    await ws.send(json.dumps({"id": next_id, "op": op, "args": args}))
                    next_id += 1
            got = await replies(messages, set(commands))
            for command_id, (op, args) in commands.items():
                error = got[command_id].get("error")
                assert error and error["code"] == "invalid_args", (op, args, got[command_id])
                assert error["message"] == "args: expected an object", (op, args, error)
            # Absent, null and {} are the empty args of the ops that take none.
            for i, extra in enumerate([{}, {"args": None}, {"args": {}}]):
                for j, op in enumerate(["ping", "groups.list", "chats.list"]):
                    command_id = 1000 + 10 * i + j
                    await ws.send(json.dumps({"id": command_id, "op": op, **extra}))
                    reply = (await replies(messages, {command_id}))[command_id]
                    assert "ok" in reply, (op, extra, reply)

    asyncio.run(run())


@pytest.mark.parametrize("gateway", [["--rate-flood-rejections", "5"]], indirect=True)
def test_a_ping_flood_is_limited_and_closed_while_other_clients_are_served(gateway):
    async def run():
        async with websockets.connect(gateway["ws"], additional_headers=bearer("mallory")) as flood, \
                websockets.connect(gateway["ws"], additional_headers=bearer("bob")) as bob:
            flood_messages, bob_messages = Messages(flood), Messages(bob)
            assert (await flood_messages.next())["event"] == "hello"
            assert (await bob_messages.next())["event"] == "hello"
            # 400 pings at once: the default bucket (20/s, burst 100) takes the first 100, and what refills
            # while they arrive.
            for i in range(400):
                await flood.send(json.dumps({"id": i, "op": "ping"}))
            ok, limited, closed_with = 0, [], None
            try:
                while True:
                    message = await asyncio.wait_for(flood_messages.next(), timeout=10)
                    if "ok" in message:
                        ok += 1
                    elif message.get("error", {}).get("code") == "rate_limited":
                        limited.append(message["error"])
            except websockets.ConnectionClosed as closed:
                closed_with = closed.rcvd.code if closed.rcvd else None
            assert closed_with == 4004, closed_with
            # Replies still queued at the close are dropped (README, "Rate limits"), so fewer than the burst
            # may be seen; never more than the bucket holds and refills.
            assert ok <= 160, ok
            assert 1 <= len(limited) <= 5, limited
            assert all(e["retry_after_ms"] >= 1 and e["temporary"] for e in limited), limited
            # Bob's pings and commands are unaffected.
            for i in range(50):
                await bob.send(json.dumps({"id": i, "op": "ping"}))
            got = await replies(bob_messages, set(range(50)))
            assert all("ok" in reply for reply in got.values())
            await bob.send(json.dumps({"id": 99, "op": "groups.list"}))
            assert "ok" in (await replies(bob_messages, {99}))[99]

    asyncio.run(run())
