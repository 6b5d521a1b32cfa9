/** SDK clients against a test gateway, and the server's truth to compare them with. */
import { type ClientSnapshot, SocialClient } from "../../src/client/client.ts";
import type { SocialClientOptions } from "../../src/client/options.ts";
import type { Chat, Message } from "../../src/protocol/objects.ts";
import type { ServerEvent } from "../../src/protocol/events.ts";
import type { Gateway } from "./gateway.ts";
import { assert, assertEquals } from "./assert.ts";
import { waitFor } from "./wait.ts";

export interface Device {
  client: SocialClient;
  user: string;
  events: ServerEvent[];
  /** Tokens the provider handed out (to check none reached the logs). */
  tokens: string[];
  logs: string[];
}

/** A started client of `user` on `device`, live (connected and synced). */
export async function device(
  gw: Gateway | { url: string; token: (sub: string, did?: string) => Promise<string> },
  user: string,
  deviceId: string,
  options: Partial<SocialClientOptions> = {},
  url = gw.url,
): Promise<Device> {
  const d: Device = { user, events: [], tokens: [], logs: [] } as unknown as Device;
  d.client = new SocialClient({
    url,
    deviceId,
    token: async () => {
      const t = await gw.token(user, deviceId);
      d.tokens.push(t);
      return t;
    },
    logger: { log: (level, message, fields) => d.logs.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ""}`) },
    backoff: { initialDelayMs: 100, maxDelayMs: 2_000 },
    ...options,
  });
  d.client.onEvent((e) => d.events.push(e));
  await d.client.start();
  await waitLive(d);
  return d;
}

export function waitLive(d: Device, timeoutMs = 30_000): Promise<void> {
  return waitFor(`${d.user} live`, () => d.client.getSnapshot().connection.status === "live", timeoutMs);
}

/** Every message of a chat, ascending by seq, paging back with `before`. */
export async function fullHistory(client: SocialClient, chatId: string): Promise<Message[]> {
  const pages: Message[][] = [];
  let before: number | undefined;
  for (;;) {
    const r = await client.request("chat.history", before === undefined ? { chat_id: chatId, limit: 100 } : { chat_id: chatId, before, limit: 100 });
    pages.unshift(r.messages);
    if (!r.more || r.messages.length === 0) break;
    before = r.messages[0].seq;
  }
  return pages.flat();
}

export interface Truth {
  chats: Map<string, Chat>;
  history: Map<string, Message[]>;
}

/** The server's state for `user`, read by a fresh client that shares nothing with the ones under test. */
export async function serverTruth(gw: Gateway, user: string): Promise<Truth> {
  const probe = new SocialClient({ url: gw.url, deviceId: "truth-probe", token: () => gw.token(user, "truth-probe"), messageWindow: 1 });
  await probe.start();
  try {
    const { chats } = await probe.request("chats.list");
    const history = new Map<string, Message[]>();
    for (const c of chats) history.set(c.chat_id, await fullHistory(probe, c.chat_id));
    return { chats: new Map(chats.map((c) => [c.chat_id, c])), history };
  } finally {
    await probe.stop();
  }
}

/** Whether a device has caught up with the server's positions (cheap, for waitFor). */
export function caughtUp(snap: ClientSnapshot, truth: Truth): boolean {
  if (Object.keys(snap.chats).length !== truth.chats.size) return false;
  for (const [id, c] of truth.chats) {
    const v = snap.chats[id];
    if (!v || v.position !== c.seq || v.chat.read_seq !== c.read_seq || v.chat.unread !== c.unread) return false;
  }
  return snap.outbox.length === 0 && Object.keys(snap.pending).length === 0;
}

/**
 * The device's state equals the server's: the same chats, each at the chat's
 * seq, with the same summary (title, read marker, unread, last message), and
 * every message it holds equal to the stored one, with nothing missing in
 * its window. Returns how many messages were compared.
 */
export function assertMatchesServer(d: Device, truth: Truth): number {
  const snap = d.client.getSnapshot();
  const label = `${d.user}`;
  assertEquals(new Set(Object.keys(snap.chats)), new Set(truth.chats.keys()), `${label}: chats`);
  let compared = 0;
  for (const [id, c] of truth.chats) {
    const v = snap.chats[id];
    assertEquals(v.position, c.seq, `${label} ${id}: position`);
    assertEquals(v.chat, c, `${label} ${id}: chat summary`);
    const held = truth.history.get(id)!.filter((m) => m.seq >= v.heldFrom);
    assertEquals(v.messages.length, held.length, `${label} ${id}: messages held from seq ${v.heldFrom}`);
    for (let i = 0; i < held.length; i++) assertEquals(v.messages[i], held[i], `${label} ${id}: message seq ${held[i].seq}`);
    compared += held.length;
  }
  assertEquals(snap.outbox.length, 0, `${label}: outbox empty`);
  assertEquals(Object.keys(snap.pending).length, 0, `${label}: no pending echo left`);
  for (const t of d.tokens) assert(!d.logs.some((l) => l.includes(t)), `${label}: a token reached the logs`);
  return compared;
}

/** Each client_msg_id of `ids` is stored exactly once over the given histories. */
export function assertStoredOnce(truth: Truth, ids: Iterable<string>): number {
  const counts = new Map<string, number>();
  for (const h of truth.history.values()) {
    for (const m of h) if (m.client_msg_id) counts.set(m.client_msg_id, (counts.get(m.client_msg_id) ?? 0) + 1);
  }
  let n = 0;
  for (const id of ids) {
    assertEquals(counts.get(id) ?? 0, 1, `client_msg_id ${id} stored`);
    n++;
  }
  assert(n > 0, "no sends to check");
  return n;
}

/** A device's state in a few lines, for timeout messages. */
export function describe(d: Device): string {
  const s = d.client.getSnapshot();
  const entries = s.outbox.slice(0, 3).map((e) => `${e.command.op} ${e.id} attempts=${e.attempts} ${e.status}`);
  return `${d.user}: ${s.connection.status} (attempt ${s.connection.attempt}, last close ${JSON.stringify(s.connection.lastClose)}), ` +
    `sync ${JSON.stringify({ ...s.sync, buffered: s.sync.buffered.length })}, outbox ${s.outbox.length} [${entries.join(", ")}]\n    ` +
    d.logs.slice(-8).join("\n    ");
}
