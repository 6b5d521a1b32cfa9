/** The outbox: order per chat, retries (temporary errors, retry_after_ms, lost connections), failures, persistence across a restart. */
import { Outbox, type OutboxEntry, type OutboxOp } from "../../src/outbox/outbox.ts";
import { SocialError } from "../../src/errors.ts";
import { MemoryStorage } from "../../src/storage.ts";
import { msg } from "../support/fixtures.ts";
import { FakeTimers, settle } from "../support/fake_timers.ts";
import { assert, assertEquals } from "../support/assert.ts";

interface Call {
  op: OutboxOp;
  args: Record<string, unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** An outbox over a gateway the test answers by hand. */
function harness(storage = new MemoryStorage(), timers = new FakeTimers()) {
  const calls: Call[] = [];
  const acked: OutboxEntry[] = [];
  const failed: [OutboxEntry, SocialError][] = [];
  let seq = 100;
  const outbox = new Outbox({
    storage,
    storageKey: "outbox",
    timers,
    random: () => 0.5,
    send: (op, args) => new Promise((resolve, reject) => calls.push({ op, args, resolve, reject })),
    events: { changed: () => {}, acked: (e) => acked.push(e), failed: (e, err) => failed.push([e, err]) },
  });
  /** Answers the oldest open call ok, as the gateway would. */
  const ok = () => {
    const c = calls.shift()!;
    const chat = String(c.args.chat_id);
    c.resolve({ message: msg(chat, Number(c.args.seq ?? ++seq), { sender: "u_maya", client_msg_id: c.args.client_msg_id as string | undefined }), duplicate: false, changed: true });
  };
  return { outbox, calls, acked, failed, timers, storage, ok };
}

const send = (chat: string, id: string, text = id) => ({ op: "chat.send" as const, args: { chat_id: chat, text, client_msg_id: id } });

Deno.test("per chat one change at a time, in order; chats proceed independently", async () => {
  const h = harness();
  await h.outbox.load();
  h.outbox.setOnline(true);
  for (const id of ["a1", "a2", "a3"]) h.outbox.add("A", send("A", id), id);
  h.outbox.add("B", send("B", "b1"), "b1");
  await settle();
  assertEquals(h.calls.map((c) => c.args.client_msg_id), ["a1", "b1"]);
  h.ok();
  await settle();
  assertEquals(h.calls.map((c) => c.args.client_msg_id), ["b1", "a2"]);
  h.ok();
  h.ok();
  await settle();
  assertEquals(h.calls.map((c) => c.args.client_msg_id), ["a3"]);
  h.ok();
  await settle();
  assertEquals(h.acked.map((e) => e.id), ["a1", "b1", "a2", "a3"]);
  assertEquals(h.outbox.entries.length, 0);
});

Deno.test("an edit of a message not stored yet waits for its send and uses its seq", async () => {
  const h = harness();
  await h.outbox.load();
  h.outbox.setOnline(true);
  h.outbox.add("A", send("A", "m1"), "m1");
  h.outbox.add("A", { op: "chat.edit", args: { chat_id: "A", text: "fixed" }, target: { clientMsgId: "m1" } }, "e1");
  await settle();
  assertEquals(h.calls.length, 1);
  h.ok(); // stored as seq 101
  await settle();
  assertEquals(h.calls[0].op, "chat.edit");
  assertEquals(h.calls[0].args, { chat_id: "A", text: "fixed", seq: 101 });
});

Deno.test("temporary errors retry after retry_after_ms or backoff; a lost connection resends the same client_msg_id", async () => {
  const h = harness();
  await h.outbox.load();
  h.outbox.setOnline(true);
  h.outbox.add("A", send("A", "m1"), "m1");
  await settle();
  h.calls.shift()!.reject(new SocialError("rate_limited", "slow down", true, 1500));
  await settle();
  h.timers.advance(1499);
  await settle();
  assertEquals(h.calls.length, 0, "not before retry_after_ms");
  h.timers.advance(1);
  await settle();
  assertEquals(h.calls.length, 1);
  // The connection drops: the call fails with `disconnected`, nothing is sent until it is back.
  h.outbox.setOnline(false);
  h.calls.shift()!.reject(SocialError.disconnected());
  await settle();
  h.timers.advance(60_000);
  await settle();
  assertEquals(h.calls.length, 0);
  h.outbox.setOnline(true);
  await settle();
  assertEquals(h.calls.length, 1);
  assertEquals(h.calls[0].args.client_msg_id, "m1");
  h.calls.shift()!.reject(new SocialError("unavailable", "store down", true));
  await settle();
  h.timers.advance(30_000);
  await settle();
  assertEquals(h.calls.length, 1);
  h.ok();
  await settle();
  assertEquals(h.acked.map((e) => [e.id, e.attempts]), [["m1", 4]]);
});

Deno.test("a permanent error marks the entry failed, tells the app, fails what refers to it, and does not block the chat", async () => {
  const h = harness();
  await h.outbox.load();
  h.outbox.setOnline(true);
  const bad = h.outbox.add("A", send("A", "m1"), "m1");
  h.outbox.add("A", { op: "chat.react", args: { chat_id: "A", emoji: "👏" }, target: { clientMsgId: "m1" } }, "r1");
  h.outbox.add("A", send("A", "m2"), "m2");
  let rejected: unknown;
  bad.done.catch((e) => (rejected = e));
  await settle();
  h.calls.shift()!.reject(new SocialError("too_large", "text: longer than 4096 bytes", false));
  await settle();
  assert(rejected instanceof SocialError && rejected.code === "too_large");
  assertEquals(h.failed.map(([e]) => e.id), ["m1", "r1"]);
  assertEquals(h.outbox.entries.filter((e) => e.status === "failed").length, 2);
  assertEquals(h.calls.map((c) => c.args.client_msg_id), ["m2"]);
  h.outbox.discard("r1");
  h.outbox.discard("m1");
  assertEquals(h.outbox.entries.map((e) => e.id), ["m2"]);
});

Deno.test("a delete that conflicts (already deleted) is done, not failed", async () => {
  const h = harness();
  await h.outbox.load();
  h.outbox.setOnline(true);
  h.outbox.add("A", { op: "chat.delete", args: { chat_id: "A" }, target: { seq: 7 } }, "d1");
  await settle();
  h.calls.shift()!.reject(new SocialError("conflict", "already deleted", false));
  await settle();
  assertEquals(h.acked.map((e) => e.id), ["d1"]);
  assertEquals(h.failed.length, 0);
});

Deno.test("the queue survives a restart of the client: a new outbox on the same storage resends in order", async () => {
  const storage = new MemoryStorage();
  const first = harness(storage);
  await first.outbox.load();
  first.outbox.setOnline(true);
  for (const id of ["m1", "m2", "m3"]) first.outbox.add("A", send("A", id), id);
  first.outbox.add("A", { op: "chat.edit", args: { chat_id: "A", text: "later" }, target: { clientMsgId: "m3" } }, "e3");
  await settle();
  first.ok(); // m1 stored; m2 is sent, and the app is killed before its reply.
  await settle();
  assertEquals(first.calls.map((c) => c.args.client_msg_id), ["m2"]);
  await first.outbox.flushed();
  first.outbox.close();

  const second = harness(storage);
  await second.outbox.load();
  assertEquals(second.outbox.entries.map((e) => e.id), ["m2", "m3", "e3"]);
  second.outbox.setOnline(true);
  await settle();
  assertEquals(second.calls.map((c) => c.args.client_msg_id), ["m2"], "m2 again, with the same client_msg_id");
  second.ok();
  await settle();
  second.ok();
  await settle();
  assertEquals(second.calls[0].op, "chat.edit");
  second.ok();
  await settle();
  await second.outbox.flushed();
  assertEquals(await storage.getItem("outbox"), null, "an empty queue leaves nothing behind");
});
