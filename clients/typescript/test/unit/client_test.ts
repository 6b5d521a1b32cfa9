/** SocialClient over a fake WebSocket: batched frames, replies out of order, the handshake's 401, the token's way in. */
import { SocialClient } from "../../src/client/client.ts";
import type { WebSocketFactory, WebSocketLike } from "../../src/connection/transport.ts";
import { chat, msg } from "../support/fixtures.ts";
import { settle } from "../support/fake_timers.ts";
import { assert, assertEquals } from "../support/assert.ts";

class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  sent: { id: number; op: string; args?: Record<string, unknown> }[] = [];
  constructor(readonly url: string, readonly headers?: Record<string, string>) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** One text frame holding these messages, separated by line feeds. */
  frame(...messages: unknown[]) {
    this.onmessage?.({ data: messages.map((m) => JSON.stringify(m)).join("\n") });
  }
}

function fakes(supportsHeaders = true) {
  const sockets: FakeSocket[] = [];
  const factory: WebSocketFactory = {
    supportsHeaders,
    open: (url, _protocols, headers) => {
      const s = new FakeSocket(url, headers);
      sockets.push(s);
      return s;
    },
  };
  return { sockets, factory };
}

const hello = { event: "hello", data: { version: "social.v1", session_id: "s1", user_id: "u_maya", device_id: "phone", max_message_bytes: 65536, ping_interval_ms: 30000, idle_timeout_ms: 75000 } };

Deno.test("batched frames are split; replies are matched by id in any order; events in the same frame apply", async () => {
  const { sockets, factory } = fakes();
  const c = new SocialClient({ url: "ws://gw/ws", token: () => "tok-12345678", webSocket: factory, deviceId: "phone" });
  await c.start();
  await settle();
  const ws = sockets[0];
  assertEquals(ws.headers, { Authorization: "Bearer tok-12345678" });
  assert(!ws.url.includes("tok-"), "the token is not in the URL when headers are possible");
  ws.open();
  await settle();
  const sync = ws.sent.find((s) => s.op === "sync")!;
  const G = "grp_run";
  // hello, the sync reply and an event, in one frame.
  // A chat new to the client (at seq 2: its history is read on demand), then a message in it.
  ws.frame(hello, { id: sync.id, ok: { chats: [{ chat: chat(G, 2), changes: [], my_reactions: {}, position: 2, more: false, new: true }], removed: [], more: false, notifications: { changes: [], position: 0, more: false, unread: 0 } } }, { event: "message.new", data: { message: msg(G, 3) } });
  await settle();
  assertEquals(c.getSnapshot().connection.status, "live");
  assertEquals(c.getSnapshot().chats[G].position, 3);
  assertEquals(c.getSnapshot().chats[G].messages.map((m) => m.seq), [3]);
  // Two commands; their replies come back in the opposite order, in one frame.
  const ping = c.request("ping");
  const list = c.request("chats.list");
  await settle();
  const [p, l] = ws.sent.slice(-2);
  ws.frame({ id: l.id, ok: { chats: [] } }, { id: p.id, ok: { server_time: 42 } });
  assertEquals(await ping, { server_time: 42 });
  assertEquals(await list, { chats: [] });
  await c.stop();
});

Deno.test("a 401 handshake: one immediate reconnect asking for a fresh token; the query string where headers are impossible", async () => {
  const { sockets, factory } = fakes(false);
  const asked: boolean[] = [];
  const c = new SocialClient({
    url: "ws://gw/ws",
    webSocket: factory,
    token: ({ forceRefresh }) => {
      asked.push(forceRefresh);
      return `token-${asked.length}-abcdef`;
    },
  });
  await c.start();
  await settle();
  assert(sockets[0].url.includes("access_token=token-1-abcdef"), "browser-like: the token in the query string");
  assertEquals(sockets[0].headers, undefined);
  sockets[0].onerror?.({ message: "Expected HTTP 101 response but was '401 Unauthorized'" });
  sockets[0].onclose?.({ code: 1006, reason: "" });
  await settle();
  assertEquals(asked, [false, true]);
  assertEquals(sockets.length, 2);
  assertEquals(c.getSnapshot().connection.status, "connecting");
  await c.stop();
});

Deno.test("a send shows as pending at once and resolves with the stored message; the echo goes when it is stored", async () => {
  const { sockets, factory } = fakes();
  const c = new SocialClient({ url: "ws://gw/ws", token: () => "tok-12345678", webSocket: factory });
  await c.start();
  await settle();
  const ws = sockets[0];
  ws.open();
  await settle();
  const G = "grp_run";
  ws.frame(hello, { id: ws.sent[0].id, ok: { chats: [{ chat: chat(G, 0), changes: [], my_reactions: {}, position: 0, more: false, new: true }], removed: [], more: false } });
  await settle();
  const done = c.send(G, { text: "hi", clientMsgId: "cm-1" });
  assertEquals(c.getSnapshot().pending[G].map((p) => p.client_msg_id), ["cm-1"]);
  await settle();
  const cmd = ws.sent.find((s) => s.op === "chat.send")!;
  assertEquals(cmd.args?.client_msg_id, "cm-1");
  const stored = msg(G, 1, { sender: "u_maya", client_msg_id: "cm-1", text: "hi" });
  ws.frame({ event: "message.new", data: { message: stored } }, { id: cmd.id, ok: { message: stored, duplicate: false } });
  assertEquals((await done).seq, 1);
  const snap = c.getSnapshot();
  assertEquals(snap.pending[G], undefined);
  assertEquals(snap.chats[G].messages.map((m) => m.client_msg_id), ["cm-1"]);
  assertEquals(snap.outbox.length, 0);
  await c.stop();
});
