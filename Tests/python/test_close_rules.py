"""RFC 6455 close rules over a raw socket (protocol/close-codes.md, "Protocol errors"): a control frame over 125
bytes and a close frame whose code a peer may not send fail the connection with a 1002 close frame, and a valid close
code is echoed. The client is written by hand so that it can send what standard clients refuse to."""
import base64, os, socket, struct

import pytest

from conftest import token


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Authorization: Bearer {token('alice')}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    rest = head.partition(b"\r\n\r\n")[2]
    return s, rest


def frame(opcode, payload, length_override=None):
    """A masked frame; `length_override` writes another length in the header (the payload is sent as is)."""
    mask = os.urandom(4)
    n = len(payload) if length_override is None else length_override
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    else:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_frame_after(s, buffered):
    """Reads frames until a close frame (its code, or None without payload) or EOF (returns 'eof')."""
    data = buffered
    while True:
        while len(data) >= 2:
            opcode, n = data[0] & 0x0F, data[1] & 0x7F
            offset = 2
            if n == 126:
                if len(data) < 4: break
                n, offset = struct.unpack("!H", data[2:4])[0], 4
            elif n == 127:
                if len(data) < 10: break
                n, offset = struct.unpack("!Q", data[2:10])[0], 10
            if len(data) < offset + n: break
            payload, data = data[offset:offset + n], data[offset + n:]
            if opcode == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return "eof"
        if not chunk:
            return "eof"
        data += chunk


@pytest.mark.parametrize("name, sent, expected", [
    ("ping of 126 bytes", frame(0x9, b"p" * 126), 1002),
    ("pong of 200 bytes", frame(0xA, b"p" * 200), 1002),
    ("close of 126 bytes", frame(0x8, struct.pack("!H", 1000) + b"r" * 124), 1002),
    ("close code 5000", frame(0x8, struct.pack("!H", 5000)), 1002),
    ("close code 65535", frame(0x8, struct.pack("!H", 65535) + b"bye"), 1002),
    ("close code 999", frame(0x8, struct.pack("!H", 999)), 1002),
    ("close code 1005", frame(0x8, struct.pack("!H", 1005)), 1002),
    ("close code 2999", frame(0x8, struct.pack("!H", 2999)), 1002),
    ("1-byte close payload", frame(0x8, b"\x03"), 1002),
    ("close code 1000", frame(0x8, struct.pack("!H", 1000)), 1000),
    ("close code 4999", frame(0x8, struct.pack("!H", 4999)), 4999),
    ("close without payload", frame(0x8, b""), None),
])
def test_close_rules(gateway, name, sent, expected):
    s, buffered = connect(gateway["port"])
    with s:
        s.sendall(sent)
        assert close_frame_after(s, buffered) == expected, name
