/**
 * The outbox: message changes (`chat.send`, `chat.edit`, `chat.delete`,
 * `chat.react`) wait here, persisted, until the gateway acknowledges them.
 *
 * - Order: per chat, one change at a time, in the order the app made them
 *   (a later change may refer to an earlier send: `{ clientMsgId }` targets
 *   are resolved to its seq once it is stored). Chats proceed independently.
 * - Retries: a lost connection or a temporary error retries the same command
 *   (a send with the same `client_msg_id`, so it is stored once); after
 *   `retry_after_ms` when the gateway gives one, else with backoff.
 * - Permanent errors mark the entry failed and tell the app; it stays until
 *   the app retries or discards it. Changes that refer to a failed send fail too.
 * - Every change of the queue is written to the storage before the command
 *   is (re)sent, so entries survive an app restart.
 */
import { fullJitter } from "../connection/backoff.ts";
import { SocialError } from "../errors.ts";
import type { EditArgs, ReactArgs, ResultOf, SendArgs } from "../protocol/ops.ts";
import type { KeyValueStorage } from "../storage.ts";
import type { Timers } from "../timers.ts";

export type OutboxOp = "chat.send" | "chat.edit" | "chat.delete" | "chat.react";

/** The message a change applies to: its seq, or the `client_msg_id` of a send of this device not stored yet. */
export type MessageRef = { seq: number } | { clientMsgId: string };

export type OutboxCommand =
  | { op: "chat.send"; args: SendArgs & { client_msg_id: string } }
  | { op: "chat.edit"; args: Omit<EditArgs, "seq">; target: MessageRef }
  | { op: "chat.delete"; args: { chat_id: string }; target: MessageRef }
  | { op: "chat.react"; args: Omit<ReactArgs, "seq">; target: MessageRef };

export interface OutboxEntry {
  /** The entry's id; for a send, its `client_msg_id`. */
  readonly id: string;
  readonly chatId: string;
  readonly command: OutboxCommand;
  readonly queuedAt: number;
  /** Commands sent for it so far. */
  readonly attempts: number;
  readonly status: "queued" | "failed";
  readonly error?: { code: string; message: string };
}

export type OutboxResult = ResultOf<"chat.send"> | ResultOf<"chat.edit"> | ResultOf<"chat.react"> | { message?: undefined };

/** How the outbox reaches the gateway. Rejects with `SocialError`. */
export type Sender = (op: OutboxOp, args: Record<string, unknown>) => Promise<unknown>;

export interface OutboxEvents {
  /** The queue changed (for the app's state). */
  changed(entries: readonly OutboxEntry[]): void;
  acked(entry: OutboxEntry, result: OutboxResult): void;
  failed(entry: OutboxEntry, error: SocialError): void;
}

export interface OutboxOptions {
  storage: KeyValueStorage;
  storageKey: string;
  send: Sender;
  timers: Timers;
  events: OutboxEvents;
  /** Commands in flight over all chats. Default 16 (the gateway allows 64 per connection). */
  maxInFlight?: number;
  random?: () => number;
}

interface Waiter {
  resolve(result: OutboxResult): void;
  reject(error: SocialError): void;
}

const RETRY_BACKOFF = { initialDelayMs: 500, maxDelayMs: 30_000 };

export class Outbox {
  #entries: OutboxEntry[] = [];
  readonly #o: Required<OutboxOptions>;
  readonly #waiters = new Map<string, Waiter>();
  readonly #inFlight = new Set<string>();
  /** Entry id → earliest time of its next attempt. */
  readonly #notBefore = new Map<string, number>();
  /** Sends acknowledged lately: client_msg_id → seq, for changes that refer to them after the fact. */
  readonly #storedSeqs = new Map<string, number>();
  #online = false;
  #timer: unknown;
  /** Writes run one after another, the first after `load` read what an earlier run saved. */
  #writing: Promise<void>;
  #markLoaded!: () => void;
  #loaded = false;

  constructor(options: OutboxOptions) {
    this.#o = { maxInFlight: 16, random: Math.random, ...options };
    this.#writing = new Promise<void>((resolve) => (this.#markLoaded = resolve));
  }

  get entries(): readonly OutboxEntry[] {
    return this.#entries;
  }

  /** Reads the persisted queue (entries of an earlier run of the app come back queued). */
  async load(): Promise<void> {
    if (this.#loaded) return;
    const text = await this.#o.storage.getItem(this.#o.storageKey);
    const saved = text ? (JSON.parse(text) as OutboxEntry[]) : [];
    // Entries added before load finished go after the saved ones.
    this.#entries = [...saved, ...this.#entries.filter((e) => !saved.some((s) => s.id === e.id))];
    this.#loaded = true;
    this.#markLoaded();
    this.#changed();
    this.#pump();
  }

  /** Adds a change; resolves when the gateway acknowledged it, rejects when it failed for good. */
  add(chatId: string, command: OutboxCommand, id: string): { entry: OutboxEntry; done: Promise<OutboxResult> } {
    const entry: OutboxEntry = { id, chatId, command, queuedAt: this.#o.timers.now(), attempts: 0, status: "queued" };
    this.#entries = [...this.#entries, entry];
    const done = new Promise<OutboxResult>((resolve, reject) => this.#waiters.set(id, { resolve, reject }));
    done.catch(() => {}); // the app learns of failures through `failed` too; an unawaited promise must not crash it
    this.#changed();
    // Sent only once it is stored, so that nothing the gateway has is unknown to the storage.
    this.#persist().then(() => this.#pump());
    return { entry, done };
  }

  /** Sends again an entry that failed. */
  retry(id: string): void {
    this.#replace(id, (e) => (e.status === "failed" ? { ...e, status: "queued", error: undefined } : e));
    this.#notBefore.delete(id);
    this.#persist().then(() => this.#pump());
  }

  /** Drops an entry that failed (or one still queued, if the app gives up on it). */
  discard(id: string): OutboxEntry | undefined {
    if (this.#inFlight.has(id)) return undefined;
    const entry = this.#entries.find((e) => e.id === id);
    if (!entry) return undefined;
    this.#entries = this.#entries.filter((e) => e.id !== id);
    this.#waiters.get(id)?.reject(new SocialError("discarded", "discarded by the app", false));
    this.#waiters.delete(id);
    this.#changed();
    void this.#persist();
    return entry;
  }

  /** The connection is open (commands can go) or not. */
  setOnline(online: boolean): void {
    this.#online = online;
    if (online) this.#pump();
  }

  /** Stops timers; queued entries stay in the storage. */
  close(): void {
    this.#online = false;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#waiters.values()) w.reject(SocialError.stopped());
    this.#waiters.clear();
  }

  /** Resolves once every write so far reached the storage. */
  flushed(): Promise<void> {
    return this.#writing;
  }

  #pump(): void {
    if (!this.#online || !this.#loaded) return;
    const now = this.#o.timers.now();
    const busy = new Set([...this.#inFlight].map((id) => this.#entries.find((e) => e.id === id)?.chatId));
    let wakeAt = Infinity;
    for (const entry of this.#entries) {
      if (this.#inFlight.size >= this.#o.maxInFlight) break;
      if (entry.status !== "queued" || busy.has(entry.chatId)) continue;
      busy.add(entry.chatId); // later entries of this chat wait for this one
      const at = this.#notBefore.get(entry.id) ?? 0;
      if (at > now) {
        wakeAt = Math.min(wakeAt, at);
        continue;
      }
      this.#start(entry);
    }
    if (wakeAt !== Infinity) this.#wakeAt(wakeAt - now);
  }

  #wakeAt(ms: number): void {
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = this.#o.timers.setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.max(0, ms));
  }

  #start(entry: OutboxEntry): void {
    const args = this.#argsOf(entry);
    if (args === undefined) {
      // It refers to a send that failed or was discarded.
      this.#fail(entry, new SocialError("invalid_args", "the message it refers to was not sent", false));
      return;
    }
    this.#inFlight.add(entry.id);
    this.#replace(entry.id, (e) => ({ ...e, attempts: e.attempts + 1 }));
    this.#o.send(entry.command.op, args).then(
      (result) => this.#settle(entry.id, { ok: result as OutboxResult }),
      (error) => this.#settle(entry.id, { error: error instanceof SocialError ? error : SocialError.badReply(String(error)) }),
    );
  }

  /** The command's args, with a `{ clientMsgId }` target resolved; undefined when it cannot be. */
  #argsOf(entry: OutboxEntry): Record<string, unknown> | undefined {
    const c = entry.command;
    if (c.op === "chat.send") return { ...c.args };
    if ("seq" in c.target) return { ...c.args, seq: c.target.seq };
    const seq = this.#storedSeqs.get(c.target.clientMsgId);
    return seq === undefined ? undefined : { ...c.args, seq };
  }

  #settle(id: string, outcome: { ok: OutboxResult } | { error: SocialError }): void {
    this.#inFlight.delete(id);
    const entry = this.#entries.find((e) => e.id === id);
    if (!entry) return this.#pump();
    if ("ok" in outcome) {
      this.#ack(entry, outcome.ok);
    } else {
      const e = outcome.error;
      if (entry.command.op === "chat.delete" && e.code === "conflict") {
        // Already deleted: by an earlier attempt whose reply was lost, or by someone else. Either way done.
        this.#ack(entry, {});
      } else if (e.temporary) {
        const wait = e.retryAfterMs ?? (e.code === "disconnected" ? 0 : Math.max(250, fullJitter(entry.attempts, RETRY_BACKOFF, this.#o.random())));
        this.#notBefore.set(id, this.#o.timers.now() + wait);
      } else {
        this.#fail(entry, e);
      }
    }
    this.#pump();
  }

  #ack(entry: OutboxEntry, result: OutboxResult): void {
    this.#notBefore.delete(entry.id);
    this.#entries = this.#entries.filter((e) => e.id !== entry.id);
    if (entry.command.op === "chat.send" && result.message) {
      // Later changes that referred to this message by client_msg_id now know its seq.
      const seq = result.message.seq;
      this.#storedSeqs.set(entry.id, seq);
      if (this.#storedSeqs.size > 10_000) this.#storedSeqs.delete(this.#storedSeqs.keys().next().value!);
      this.#entries = this.#entries.map((e) =>
        e.command.op !== "chat.send" && "clientMsgId" in e.command.target && e.command.target.clientMsgId === entry.id
          ? { ...e, command: { ...e.command, target: { seq } } }
          : e
      );
    }
    this.#changed();
    void this.#persist();
    this.#o.events.acked(entry, result);
    this.#waiters.get(entry.id)?.resolve(result);
    this.#waiters.delete(entry.id);
  }

  #fail(entry: OutboxEntry, error: SocialError): void {
    this.#notBefore.delete(entry.id);
    const failed: OutboxEntry = { ...entry, status: "failed", error: { code: error.code, message: error.message } };
    this.#replace(entry.id, () => failed);
    void this.#persist();
    this.#o.events.failed(failed, error);
    this.#waiters.get(entry.id)?.reject(error);
    this.#waiters.delete(entry.id);
    // Changes that refer to this send cannot be made either.
    if (entry.command.op === "chat.send") {
      for (const dep of this.#entries) {
        if (dep.status === "queued" && dep.command.op !== "chat.send" && "clientMsgId" in dep.command.target && dep.command.target.clientMsgId === entry.id) {
          this.#fail(dep, new SocialError(error.code, `the message it refers to failed: ${error.message}`, false));
        }
      }
    }
  }

  #replace(id: string, f: (e: OutboxEntry) => OutboxEntry): void {
    this.#entries = this.#entries.map((e) => (e.id === id ? f(e) : e));
    this.#changed();
  }

  #changed(): void {
    this.#o.events.changed(this.#entries);
  }

  /** Writes the queue; writes run one after another, each with the queue as it is when it starts. */
  #persist(): Promise<void> {
    this.#writing = this.#writing.then(() => {
      const key = this.#o.storageKey;
      return this.#entries.length === 0
        ? this.#o.storage.removeItem(key)
        : this.#o.storage.setItem(key, JSON.stringify(this.#entries));
    }).catch(() => {
      // A failed write is retried with the next change; the queue in memory is still right.
    });
    return this.#writing;
  }
}
