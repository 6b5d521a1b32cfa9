"""The /metrics series of rate limits, connection states and the Redis bus, parsed
with prometheus_client while Python's websockets drives the gateway; and the request
ids in its logs."""
import asyncio, json, re, time

import pytest
import websockets

from conftest import token
from test_standard_clients import metrics, value


def total(values, name, **labels):
    """The sum of every sample of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in values.items()
               if n == name and all(dict(ls).get(k) == w for k, w in labels.items()))


async def connect(gateway, user):
    ws = await websockets.connect(gateway["ws"], additional_headers={"Authorization": "Bearer " + token(user)},
                                  subprotocols=["social.v1"])
    hello = json.loads((await ws.recv()).split("\n")[0])
    assert hello["event"] == "hello"
    return ws


async def replies(ws, ids):
    """The replies to `ids` (other frames skipped); stops early if the socket closes."""
    out = {}
    try:
        while len(out) < len(ids):
            # A frame may hold several messages, one per line (protocol/README.md).
            for line in (await asyncio.wait_for(ws.recv(), 20)).split("\n"):
                if not line:
                    continue
                frame = json.loads(line)
                if frame.get("id") in ids:
                    out[frame["id"]] = frame
    except websockets.ConnectionClosed:
        pass
    return out


async def create_group(ws, title):
    await ws.send(json.dumps({"id": 1, "op": "group.create", "args": {"title": title}}))
    return (await replies(ws, {1}))[1]["ok"]["group"]["group_id"]


async def burst(ws, chat, first, count):
    for i in range(count):
        await ws.send(json.dumps({"id": first + i, "op": "chat.send", "args": {"chat_id": chat, "text": f"rep {i}"}}))
    return await replies(ws, set(range(first, first + count)))


@pytest.mark.parametrize("gateway", [["--rate-messages", "2/s,burst=3", "--rate-flood-rejections", "6",
                                      "--log-level", "debug"]], indirect=True)
def test_rate_limit_series_and_connection_states(gateway):
    before = metrics(gateway)
    for rate_class in ("commands", "messages", "typing", "proxy"):
        assert ("social_rate_limited_total", (("class", rate_class),)) in before, "every class's series, at 0"

    async def scenario():
        ws = await connect(gateway, "alice")
        group = await create_group(ws, "Hill repeats")
        got = await burst(ws, group, 100, 8)
        limited = [f for f in got.values() if f.get("error", {}).get("code") == "rate_limited"]
        assert limited and all(f["error"]["retry_after_ms"] >= 1 for f in limited)
        # A ready connection shows in the gauge (sampled once a second).
        await asyncio.sleep(1.5)
        during = metrics(gateway)
        # Keep flooding: closed with 4004.
        await burst(ws, group, 200, 30)
        await asyncio.wait_for(ws.wait_closed(), 10)
        return len(limited), during, ws.close_code

    rejected, during, code = asyncio.run(scenario())
    assert code == 4004
    assert value(during, "social_connections", state="ready") >= 1
    assert value(during, "social_rate_limited_total", **{"class": "messages"}) - \
        value(before, "social_rate_limited_total", **{"class": "messages"}) == rejected
    time.sleep(1.5)
    after = metrics(gateway)
    assert value(after, "social_rate_limit_closes_total") - value(before, "social_rate_limit_closes_total") == 1
    assert value(after, "social_commands_total", op="chat.send", result="rate_limited") >= rejected + 1
    assert value(after, "social_connections", state="ready") == 0
    # Every series of the states is there, even at 0.
    for state in ("loading", "ready", "closing"):
        assert ("social_connections", (("state", state),)) in after
    # The dispatcher's debug line about the rejection names the command's request id.
    log = open(gateway["log"]).read()
    assert re.search(r"request_id=\S+-10[0-9]\b", log), log[-2000:]


@pytest.mark.parametrize("gateway", [[lambda request: ["--bus", request.getfixturevalue("redis")["url"]]]],
                         indirect=True)
def test_bus_series_move_with_traffic(gateway, redis):
    before = metrics(gateway)
    # The series exist from the start.
    for name in ("social_bus_lag_seconds_count", "social_bus_publish_duration_seconds_count"):
        assert any(n == name for (n, _) in before), name
    assert ("social_bus_reconnects_total", (("connection", "subscriber"),)) in before

    async def send_some(n, first):
        ws = await connect(gateway, "bob")
        group = await create_group(ws, "Track night")
        for i in range(n):
            await ws.send(json.dumps({"id": first + i, "op": "chat.send", "args": {"chat_id": group, "text": f"rep {i}"}}))
        # Every reply, and every message.new: the events come back through Redis to this
        # connection, and closing before they arrive would unsubscribe the node while they
        # are still on their way.
        replies, events = set(), set()
        while len(replies) < n or len(events) < n:
            for line in (await asyncio.wait_for(ws.recv(), 10)).split("\n"):
                frame = json.loads(line)
                if frame.get("id") in range(first, first + n):
                    assert "ok" in frame, frame
                    replies.add(frame["id"])
                elif frame.get("event") == "message.new":
                    events.add(frame["data"]["message"]["seq"])
        await ws.close()

    asyncio.run(send_some(5, 10))
    time.sleep(0.5)
    after = metrics(gateway)
    # Each send publishes its event (and the group creation more): each comes back through Redis.
    assert total(after, "social_bus_lag_seconds_count") - total(before, "social_bus_lag_seconds_count") >= 5
    assert total(after, "social_bus_publish_duration_seconds_count") > \
        total(before, "social_bus_publish_duration_seconds_count")
    assert total(after, "social_bus_lag_seconds_sum") >= 0

    # Redis restarts: both connections come back, and say so.
    redis["restart"]()
    deadline = time.time() + 20
    while time.time() < deadline:
        now = metrics(gateway)
        if value(now, "social_bus_reconnects_total", connection="subscriber") >= 1 and \
                value(now, "social_bus_reconnects_total", connection="publisher") >= 1:
            break
        time.sleep(0.3)
    assert value(now, "social_bus_reconnects_total", connection="subscriber") >= 1
    assert value(now, "social_bus_reconnects_total", connection="publisher") >= 1


def settled_commits(gateway):
    """The metrics once every commit counted has been timed: a commit is counted and timed
    one after the other when its flush ends, so a snapshot may fall between the two (up to 5 s)."""
    deadline = time.time() + 5
    while True:
        now = metrics(gateway)
        if value(now, "social_store_commits_total") == value(now, "social_store_commit_seconds_count") \
                or time.time() > deadline:
            return now
        time.sleep(0.02)


def test_store_commit_series(gateway):
    """The embedded store's group commits: one timed `COMMIT` per commit, and the writes
    they held (a group create, then five sends, each acknowledged once committed)."""
    before = settled_commits(gateway)
    assert value(before, "social_store_commits_total") == value(before, "social_store_commit_seconds_count")

    async def run():
        ws = await connect(gateway, "commit-alice")
        chat = await create_group(ws, "Commit watch")
        got = await burst(ws, chat, 10, 5)
        assert all("ok" in got[i] for i in range(10, 15)), got
        await ws.close()

    asyncio.run(run())
    after = settled_commits(gateway)
    commits = value(after, "social_store_commits_total") - value(before, "social_store_commits_total")
    writes = value(after, "social_store_commit_writes_total") - value(before, "social_store_commit_writes_total")
    assert 1 <= commits <= writes, (commits, writes)
    assert writes >= 6, "the group and the five messages were committed"
    assert value(after, "social_store_commit_seconds_count") == value(after, "social_store_commits_total")
    assert value(after, "social_store_commit_seconds_sum") > 0
