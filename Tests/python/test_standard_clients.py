"""A standard WebSocket client (Python's websockets, which offers permessage-deflate: the gateway declines it) and a
Prometheus text-format parser against a running gateway."""
import asyncio, json, urllib.request

import websockets
from prometheus_client.parser import text_string_to_metric_families

from conftest import token


def metrics(gateway) -> dict:
    text = urllib.request.urlopen(gateway["http"] + "/metrics", timeout=5).read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            values[key] = sample.value
    return values


def value(values, name, **labels):
    return values.get((name, tuple(sorted(labels.items()))), 0)


class Messages:
    """The server's messages in order: a frame may hold several, one a line (protocol README)."""

    def __init__(self, ws):
        self.ws, self.buffered = ws, []

    async def next(self) -> dict:
        while not self.buffered:
            frame = await self.ws.recv()
            self.buffered = [json.loads(line) for line in frame.split("\n") if line]
        return self.buffered.pop(0)


async def conversation(gateway):
    headers = {"Authorization": "Bearer " + token("alice")}
    async with websockets.connect(gateway["ws"], additional_headers=headers, subprotocols=["social.v1"]) as alice:
        assert alice.subprotocol == "social.v1"
        messages = Messages(alice)
        hello = await messages.next()
        assert hello["event"] == "hello" and hello["data"]["user_id"] == "alice"

        async def command(ws, id, op, args):
            await ws.send(json.dumps({"id": id, "op": op, "args": args}))
            while True:
                frame = await messages.next()
                if frame.get("id") == id:
                    return frame

        created = await command(alice, 1, "group.create", {"title": "Hill repeats", "open": True})
        group = created["ok"]["group"]["group_id"]
        for i in range(5):
            sent = await command(alice, 10 + i, "chat.send", {"chat_id": group, "text": f"rep {i}"})
            assert sent["ok"]["message"]["seq"] == i + 2
        bad = await command(alice, 99, "chat.send", {"chat_id": 1})
        assert bad["error"]["code"] == "invalid_args"


def test_python_websockets_client_and_metrics(gateway):
    before = metrics(gateway)
    asyncio.run(conversation(gateway))
    after = metrics(gateway)
    assert value(after, "social_commands_total", op="chat.send", result="ok") - \
        value(before, "social_commands_total", op="chat.send", result="ok") == 5
    assert value(after, "social_commands_total", op="chat.send", result="invalid_args") >= 1
    assert value(after, "social_messages_stored_total") - value(before, "social_messages_stored_total") == 5
    assert value(after, "social_connections_opened_total") >= 1
    assert value(after, "social_frames_sent_total") > value(before, "social_frames_sent_total")
    assert value(after, "social_messages_sent_total") >= value(after, "social_frames_sent_total")
    assert any(name == "social_store_duration_seconds_count" and dict(labels).get("op") == "append"
               for (name, labels) in after)
