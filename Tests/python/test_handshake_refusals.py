"""A standard client (Python's websockets) sees every refused handshake as the HTTP status the protocol documents
(protocol/close-codes.md, "HTTP statuses of the handshake"), with its JSON body: the status line is HTTP/1.1, which
websockets requires (lws alone would answer a refused upgrade with HTTP/1.0)."""
import asyncio, json, os, signal

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import token


async def refusal(gateway, query="", **kwargs):
    """The status, JSON body and headers of a refused handshake; fails if the handshake succeeds."""
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(gateway["ws"] + query, open_timeout=5, **kwargs):
            pass
    response = refused.value.response
    return response.status_code, json.loads(bytes(response.body)), response.headers


def bearer(user="alice"):
    return {"Authorization": "Bearer " + token(user)}


@pytest.mark.parametrize("gateway", [["--allowed-origins", "https://app.example"]], indirect=True)
def test_refusals_are_http_1_1_statuses_with_their_documented_bodies(gateway):
    async def run():
        status, body, headers = await refusal(gateway)
        assert status == 401 and body["error"]["code"] == "unauthorized"
        assert headers["WWW-Authenticate"].startswith("Bearer")

        status, body, _ = await refusal(gateway, additional_headers={"Authorization": "Bearer not.a.token"})
        assert status == 401 and body["error"]["code"] == "unauthorized"

        status, body, _ = await refusal(gateway, additional_headers=bearer(), origin="https://evil.example")
        assert status == 403 and body["error"]["code"] == "forbidden_origin"

        status, body, _ = await refusal(gateway, additional_headers=bearer(), subprotocols=["chat.v9"])
        assert status == 400 and body["error"]["code"] == "bad_subprotocol"

        status, body, _ = await refusal(gateway, "?device_id=not%20valid", additional_headers=bearer())
        assert status == 400 and body["error"]["code"] == "bad_device_id"

        # The same client is let in with what was missing.
        async with websockets.connect(gateway["ws"], additional_headers=bearer(), origin="https://app.example",
                                      subprotocols=["social.v1"]) as ws:
            assert json.loads((await ws.recv()).split("\n")[0])["event"] == "hello"

    asyncio.run(run())


@pytest.mark.parametrize("gateway", [["--max-connections", "1"]], indirect=True)
def test_a_full_node_refuses_with_503_full(gateway):
    async def run():
        async with websockets.connect(gateway["ws"], additional_headers=bearer("alice")) as first:
            await first.recv()
            status, body, _ = await refusal(gateway, additional_headers=bearer("bob"))
            assert status == 503 and body["error"]["code"] == "full"

    asyncio.run(run())


@pytest.mark.parametrize("gateway", [["--drain-timeout", "4"]], indirect=True)
def test_a_draining_node_refuses_with_503_shutting_down(gateway):
    async def run():
        async with websockets.connect(gateway["ws"], additional_headers=bearer("alice")) as chatty:
            await chatty.recv()

            async def chatter():
                # A chatty client keeps its session from going quiet: the drain lasts until its deadline.
                for i in range(40):
                    await chatty.send(json.dumps({"id": i, "op": "ping"}))
                    await asyncio.sleep(0.1)

            pings = asyncio.create_task(chatter())
            await asyncio.sleep(0.3)
            os.kill(gateway["pid"], signal.SIGTERM)
            await asyncio.sleep(0.5)
            status, body, _ = await refusal(gateway, additional_headers=bearer("bob"))
            assert status == 503 and body["error"]["code"] == "shutting_down"
            pings.cancel()

    asyncio.run(run())
