/**
 * `SocialClient`: one WebSocket to the gateway, kept open and in sync.
 *
 * It wires the pure parts together: the connection state machine
 * (connection/machine.ts) decides when to connect, the reducer
 * (state/reducer.ts) keeps the app's state, the outbox (outbox/outbox.ts)
 * delivers message changes. This file does the I/O they describe: the
 * socket, timers, the `sync` loop, the heartbeat, and the commands.
 */
import { defaultBackoff } from "../connection/backoff.ts";
import {
  type Action,
  type CloseInfo,
  type ConnectionState,
  defaultMachineConfig,
  type Env,
  initialState as initialConnection,
  type Input,
  isOpen,
  type TimerName,
  transition,
} from "../connection/machine.ts";
import {
  connectTarget,
  handshakeStatus,
  loggableUrl,
  platformWebSocket,
  SUBPROTOCOL,
  type WebSocketFactory,
  type WebSocketLike,
} from "../connection/transport.ts";
import { SocialError } from "../errors.ts";
import { randomId } from "../ids.ts";
import { RedactingLogger, silentLogger } from "../log.ts";
import { Outbox, type OutboxEntry, type OutboxResult } from "../outbox/outbox.ts";
import { decodeFrame, decodeResult, encodeCommand } from "../protocol/codec.ts";
import { DecodeError, type JsonValue } from "../protocol/decode.ts";
import type { ServerEvent } from "../protocol/events.ts";
import type { Attachment, Message } from "../protocol/objects.ts";
import type { ArgsOf, NotificationsAckArgs, NotificationsListArgs, Op, PresenceSetArgs, ResultOf, SyncArgs } from "../protocol/ops.ts";
import { reduce, type StateAction } from "../state/reducer.ts";
import { defaultStateConfig, emptyState, type SocialState, type StateConfig } from "../state/types.ts";
import { MemoryStorage } from "../storage.ts";
import { systemTimers, type Timers } from "../timers.ts";
import type { SocialClientOptions } from "./options.ts";
import { PendingCommands } from "./rpc.ts";
import { ExternalStore } from "./store.ts";

/** The connection as the app shows it. */
export interface ConnectionInfo {
  readonly status: ConnectionState["status"];
  /** Failed attempts since the last good connection. */
  readonly attempt: number;
  readonly lastClose?: CloseInfo;
  /** Set when the client stopped for good after a close that retrying cannot fix. */
  readonly fatal?: string;
}

/** What `getSnapshot()` returns: the state to render, the connection, and the outbox. */
export interface ClientSnapshot extends SocialState {
  readonly connection: ConnectionInfo;
  readonly outbox: readonly OutboxEntry[];
}

/** Counters, for tests and diagnostics. */
export interface ClientStats {
  /** Sockets opened. */
  connects: number;
  /** Syncs completed (each one or more `sync` calls). */
  syncs: number;
  /** `sync` calls made. */
  syncCalls: number;
  /** Time spent in completed syncs, ms. */
  syncMs: number;
}

export interface SendContent {
  text?: string;
  kind?: string;
  data?: JsonValue;
  attachments?: Attachment[];
  reply_to?: number;
  /** Default: a new random UUID. */
  clientMsgId?: string;
}

/** A message: its seq, or the `clientMsgId` of a message of this device still in the outbox. */
export type MessageTarget = number | { clientMsgId: string };

type ArgsParam<O extends Op> = undefined extends ArgsOf<O> ? [args?: ArgsOf<O>] : [args: ArgsOf<O>];

const PRESENCE_BATCH = 100;
const TYPING_INTERVAL_MS = 2_000;

export class SocialClient {
  readonly #o: SocialClientOptions;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #log: RedactingLogger;
  readonly #env: Env;
  readonly #stateConfig: StateConfig;
  readonly #webSocket: WebSocketFactory;
  readonly #commands: PendingCommands;
  readonly #outbox: Outbox;
  readonly #store: ExternalStore<ClientSnapshot>;
  readonly #eventListeners = new Set<(event: ServerEvent) => void>();
  readonly #failureListeners = new Set<(entry: OutboxEntry, error: SocialError) => void>();

  #conn: ConnectionState = initialConnection;
  #state: SocialState = emptyState;
  #outboxEntries: readonly OutboxEntry[] = [];
  #connInfo: ConnectionInfo = { status: "idle", attempt: 0 };

  /** Bumped for every socket: callbacks of an older one are ignored. */
  #generation = 0;
  #socket?: WebSocketLike;
  readonly #machineTimers = new Map<TimerName, unknown>();
  #openWaiters: (() => void)[] = [];
  #lastReceived = 0;
  #heartbeat: unknown;
  #pingOutstanding = false;
  #lastRetryAfterMs?: number;
  #handshakeError?: unknown;

  #syncing = false;
  #syncRetry: unknown;
  #typingTimer: unknown;
  #typingSent = new Map<string, number>();
  #presenceState: PresenceSetArgs = { state: "online" };
  readonly #watched = new Set<string>();
  /** Outbox sends whose local echo was added. */
  readonly #echoed = new Set<string>();
  readonly #stats: ClientStats = { connects: 0, syncs: 0, syncCalls: 0, syncMs: 0 };

  constructor(options: SocialClientOptions) {
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
    this.#random = options.random ?? Math.random;
    this.#log = new RedactingLogger(options.logger ?? silentLogger);
    this.#env = {
      random: this.#random,
      config: {
        ...defaultMachineConfig,
        backoff: { ...defaultBackoff, ...options.backoff },
        stableAfterMs: options.stableAfterMs ?? defaultMachineConfig.stableAfterMs,
        connectTimeoutMs: options.connectTimeoutMs ?? defaultMachineConfig.connectTimeoutMs,
        backgroundCloseAfterMs: options.backgroundCloseAfterMs ?? null,
      },
    };
    this.#stateConfig = {
      ...defaultStateConfig,
      messageWindow: options.messageWindow ?? defaultStateConfig.messageWindow,
      notificationWindow: options.notificationWindow ?? defaultStateConfig.notificationWindow,
    };
    this.#webSocket = options.webSocket ?? platformWebSocket();
    this.#commands = new PendingCommands(this.#timers);
    this.#store = new ExternalStore<ClientSnapshot>(this.#compose());
    this.#outbox = new Outbox({
      storage: options.storage ?? new MemoryStorage(),
      storageKey: options.storageKey ?? "social.outbox",
      timers: this.#timers,
      random: this.#random,
      maxInFlight: options.outboxMaxInFlight,
      send: (op, args) => this.#command(op, args as never),
      events: {
        changed: (entries) => this.#onOutboxChanged(entries),
        acked: (entry, result) => this.#onOutboxAcked(entry, result),
        failed: (entry, error) => this.#onOutboxFailed(entry, error),
      },
    });
  }

  // ---- lifecycle ----

  /** Loads the outbox from the storage and connects. */
  async start(): Promise<void> {
    await this.#outbox.load();
    this.#machine({ type: "start" });
  }

  /** Closes the connection; the outbox stays in the storage for the next start. */
  async stop(): Promise<void> {
    this.#machine({ type: "stop" });
    this.#outbox.close();
    this.#commands.failAll(SocialError.stopped());
    for (const w of this.#openWaiters) w();
    this.#openWaiters = [];
    this.#clear(this.#syncRetry);
    this.#clear(this.#typingTimer);
    await this.#outbox.flushed();
  }

  /** The app learned that the network is back: reconnect at once instead of waiting out the backoff. */
  networkUp(): void {
    this.#machine({ type: "network", up: true });
  }

  /** The app learned that there is no network: stop retrying until `networkUp`. */
  networkDown(): void {
    this.#machine({ type: "network", up: false });
  }

  /** The app came to the foreground: reconnect at once if not connected. */
  foreground(): void {
    this.#machine({ type: "app_state", foreground: true });
  }

  /** The app went to the background (closes after `backgroundCloseAfterMs`, when set). */
  background(): void {
    this.#machine({ type: "app_state", foreground: false });
  }

  // ---- state for the app ----

  /** For `useSyncExternalStore(client.subscribe, client.getSnapshot)`. */
  readonly subscribe = (listener: () => void): (() => void) => this.#store.subscribe(listener);
  readonly getSnapshot = (): ClientSnapshot => this.#store.getSnapshot();

  /** Every server event as it arrives (after it was applied to the state). */
  onEvent(listener: (event: ServerEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** An outbox entry failed for good (it stays in `outbox` until retried or discarded). */
  onOutboxFailure(listener: (entry: OutboxEntry, error: SocialError) => void): () => void {
    this.#failureListeners.add(listener);
    return () => this.#failureListeners.delete(listener);
  }

  get stats(): Readonly<ClientStats> {
    return { ...this.#stats };
  }

  // ---- message changes, through the outbox ----

  /** Sends a message. It shows at once as pending; resolves with the stored message. */
  send(chatId: string, content: SendContent): Promise<Message> {
    const id = content.clientMsgId ?? randomId();
    const args = strip({
      chat_id: chatId,
      text: content.text,
      kind: content.kind,
      data: content.data,
      attachments: content.attachments,
      reply_to: content.reply_to,
      client_msg_id: id,
    });
    this.#apply({
      type: "pending_add",
      message: strip({ ...args, client_msg_id: id, queued_at: this.#timers.now(), status: "sending" as const }),
    });
    return this.#outbox.add(chatId, { op: "chat.send", args }, id).done.then((r) => r.message!);
  }

  /** Edits this user's message. */
  edit(chatId: string, target: MessageTarget, text: string, data?: JsonValue): Promise<Message> {
    return this.#outbox.add(chatId, { op: "chat.edit", args: strip({ chat_id: chatId, text, data }), target: this.#ref(chatId, target) }, randomId())
      .done.then((r) => r.message!);
  }

  /** Deletes a message (resolves also when it was already deleted). */
  deleteMessage(chatId: string, target: MessageTarget): Promise<void> {
    return this.#outbox.add(chatId, { op: "chat.delete", args: { chat_id: chatId }, target: this.#ref(chatId, target) }, randomId())
      .done.then(() => undefined);
  }

  /** Adds (or with `remove`, removes) this user's reaction. */
  react(chatId: string, target: MessageTarget, emoji: string, options: { remove?: boolean } = {}): Promise<void> {
    const args = strip({ chat_id: chatId, emoji, remove: options.remove });
    return this.#outbox.add(chatId, { op: "chat.react", args, target: this.#ref(chatId, target) }, randomId()).done.then(() => undefined);
  }

  /** A `{ clientMsgId }` target of a message already stored and held becomes its seq. */
  #ref(chatId: string, target: MessageTarget): { seq: number } | { clientMsgId: string } {
    if (typeof target === "number") return { seq: target };
    const held = this.#state.chats[chatId]?.messages.find((m) => m.client_msg_id === target.clientMsgId && m.sender === this.#state.userId);
    return held ? { seq: held.seq } : { clientMsgId: target.clientMsgId };
  }

  /** Sends a failed outbox entry again. */
  retryFailed(id: string): void {
    this.#outbox.retry(id);
    const entry = this.#outboxEntries.find((e) => e.id === id);
    if (entry?.command.op === "chat.send") {
      this.#apply({ type: "pending_update", chatId: entry.chatId, clientMsgId: id, patch: { status: "sending", error: undefined } });
    }
  }

  /** Gives up on an outbox entry (and its local echo). */
  discardFailed(id: string): void {
    const entry = this.#outbox.discard(id);
    this.#echoed.delete(id);
    if (entry?.command.op === "chat.send") this.#apply({ type: "pending_remove", chatId: entry.chatId, clientMsgId: id });
  }

  // ---- other commands ----

  /**
   * Any op of the protocol, typed. Waits for a connection (up to
   * `commandTimeoutMs`); the result also updates the state (a sent message,
   * a joined group, a history page...). Rejects with `SocialError`.
   */
  async request<O extends Op>(op: O, ...[args]: ArgsParam<O>): Promise<ResultOf<O>> {
    const deadline = this.#timers.now() + this.#commandTimeout();
    await this.#whenOpen(deadline);
    return this.#command(op, args as ArgsOf<O>, Math.max(1, deadline - this.#timers.now()));
  }

  /** Moves this user's read marker (default: to the newest message held). */
  async markRead(chatId: string, seq?: number): Promise<void> {
    const view = this.#state.chats[chatId];
    const upTo = seq ?? Math.max(view?.position ?? 0, view?.chat.seq ?? 0);
    if (view && upTo <= view.chat.read_seq) return;
    await this.request("chat.read", { chat_id: chatId, seq: upTo });
  }

  /** Says this user is typing (sent at most every 2 s per chat; failures are ignored). */
  typing(chatId: string): void {
    const now = this.#timers.now();
    if (now - (this.#typingSent.get(chatId) ?? -Infinity) < TYPING_INTERVAL_MS || !isOpen(this.#conn)) return;
    this.#typingSent.set(chatId, now);
    this.#command("chat.typing", { chat_id: chatId }).catch(() => {});
  }

  /** Loads the page of messages below those held (the latest page for a chat with none held). */
  async loadOlder(chatId: string, limit = 50): Promise<{ loaded: number; hasOlder: boolean }> {
    const view = this.#state.chats[chatId];
    if (!view) throw new SocialError("not_found", `unknown chat ${chatId}`, false);
    if (!view.hasOlder) return { loaded: 0, hasOlder: false };
    const result = await this.request("chat.history", { chat_id: chatId, before: view.heldFrom, limit });
    return { loaded: result.messages.length, hasOlder: result.more };
  }

  /** Back to the default window for a chat (drops pages loaded with `loadOlder`). */
  trimMessages(chatId: string): void {
    this.#apply({ type: "trim", chatId });
  }

  /** Sets this device's presence; set again on every reconnect. */
  async setPresence(state: PresenceSetArgs["state"], activity?: string): Promise<void> {
    this.#presenceState = strip({ state, activity });
    await this.request("presence.set", this.#presenceState);
  }

  /** Watches users' presence; watches are renewed on every reconnect. */
  async watchPresence(userIds: string[]): Promise<void> {
    const fresh = userIds.filter((u) => !this.#watched.has(u));
    for (const u of fresh) this.#watched.add(u);
    for (let i = 0; i < fresh.length; i += PRESENCE_BATCH) {
      await this.request("presence.subscribe", { user_ids: fresh.slice(i, i + PRESENCE_BATCH) });
    }
  }

  async unwatchPresence(userIds: string[]): Promise<void> {
    const gone = userIds.filter((u) => this.#watched.delete(u));
    for (let i = 0; i < gone.length; i += PRESENCE_BATCH) {
      await this.request("presence.unsubscribe", { user_ids: gone.slice(i, i + PRESENCE_BATCH) });
    }
  }

  loadNotifications(args: NotificationsListArgs = {}): Promise<ResultOf<"notifications.list">> {
    return this.request("notifications.list", args);
  }

  ackNotifications(args: NotificationsAckArgs): Promise<ResultOf<"notifications.ack">> {
    return this.request("notifications.ack", args);
  }

  // ---- the connection ----

  #machine(input: Input): void {
    const step = transition(this.#conn, input, this.#env);
    const before = this.#conn;
    this.#conn = step.state;
    if (before.status !== step.state.status) {
      this.#log.log("debug", `connection ${before.status} -> ${step.state.status}`, { attempt: step.state.attempt });
    }
    for (const action of step.actions) this.#perform(action);
    this.#publish();
    if (isOpen(this.#conn)) {
      const waiters = this.#openWaiters;
      this.#openWaiters = [];
      for (const w of waiters) w();
    }
  }

  #perform(action: Action): void {
    switch (action.type) {
      case "open_socket":
        void this.#openSocket(action.refreshToken);
        return;
      case "close_socket":
        this.#closeSocket(action.code, action.reason);
        return;
      case "set_timer": {
        this.#clear(this.#machineTimers.get(action.name));
        const name = action.name;
        this.#machineTimers.set(name, this.#timers.setTimeout(() => {
          this.#machineTimers.delete(name);
          this.#machine({ type: "timer", name, now: this.#timers.now() });
        }, action.ms));
        return;
      }
      case "clear_timer":
        this.#clear(this.#machineTimers.get(action.name));
        this.#machineTimers.delete(action.name);
        return;
      case "start_sync":
        this.#apply({ type: "sync_needed" });
        this.#onConnected();
        return;
    }
  }

  async #openSocket(refreshToken: boolean): Promise<void> {
    const generation = ++this.#generation;
    this.#handshakeError = undefined;
    let token: string;
    try {
      token = await this.#o.token({ forceRefresh: refreshToken });
    } catch (e) {
      if (generation !== this.#generation) return;
      this.#log.log("warn", "the token provider failed", { error: String(e) });
      this.#machine({ type: "socket_closed", now: this.#timers.now(), close: { code: 1006, reason: "no token" } });
      return;
    }
    if (generation !== this.#generation || this.#conn.status !== "connecting") return;
    this.#log.addSecret(token);
    const tokenIn = this.#o.tokenIn === "query" || (this.#o.tokenIn !== "header" && !this.#webSocket.supportsHeaders)
      ? "query"
      : "header";
    const target = connectTarget(this.#o.url, token, this.#o.deviceId, tokenIn);
    this.#log.log("debug", "connecting", { url: loggableUrl(target.url), tokenIn });
    let ws: WebSocketLike;
    try {
      ws = this.#webSocket.open(target.url, [SUBPROTOCOL], target.headers);
    } catch (e) {
      this.#log.log("error", "could not create a WebSocket", { error: String(e) });
      this.#machine({ type: "socket_closed", now: this.#timers.now(), close: { code: 1006, reason: "no socket" } });
      return;
    }
    this.#socket = ws;
    let opened = false;
    ws.onopen = () => {
      if (generation !== this.#generation) return;
      opened = true;
      this.#stats.connects++;
      this.#lastReceived = this.#timers.now();
      this.#machine({ type: "socket_open", now: this.#timers.now() });
    };
    ws.onmessage = (ev) => {
      if (generation !== this.#generation) return;
      this.#lastReceived = this.#timers.now();
      if (typeof ev.data === "string") this.#onFrame(ev.data);
      else this.#log.log("warn", "ignored a binary frame");
    };
    ws.onerror = (ev) => {
      if (generation === this.#generation) this.#handshakeError = ev;
    };
    ws.onclose = (ev) => {
      if (generation !== this.#generation) return;
      const status = opened ? undefined : handshakeStatus(this.#handshakeError);
      const code = ev.code === 0 || ev.code === undefined ? 1006 : ev.code;
      this.#socketGone();
      this.#log.log("info", "connection closed", { code, reason: ev.reason, status });
      this.#machine({
        type: "socket_closed",
        now: this.#timers.now(),
        close: strip({
          code,
          reason: ev.reason ?? "",
          unauthorized: code === 1008 || status === 401 ? true : undefined,
          forbidden: status === 403 ? true : undefined,
          retryAfterMs: code === 4004 ? this.#lastRetryAfterMs : undefined,
        }),
      });
    };
  }

  #closeSocket(code: number, reason: string): void {
    const ws = this.#socket;
    this.#generation++; // its callbacks are ignored from now on
    if (ws) {
      try {
        ws.close(code, reason);
      } catch {
        // already closed
      }
    }
    this.#socketGone();
  }

  /** The socket is gone: nothing in flight will be answered. */
  #socketGone(): void {
    this.#socket = undefined;
    this.#outbox.setOnline(false);
    this.#clear(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#pingOutstanding = false;
    this.#commands.failAll(SocialError.disconnected());
  }

  /** A socket opened: sync, renew presence, let the outbox and waiting commands go. */
  #onConnected(): void {
    this.#lastRetryAfterMs = undefined;
    this.#scheduleHeartbeat();
    this.#outbox.setOnline(true);
    void this.#maybeSync();
    if (this.#presenceState.state !== "online") {
      this.#command("presence.set", this.#presenceState).catch((e) => this.#log.log("warn", "presence.set failed", { error: String(e) }));
    }
    const watched = [...this.#watched];
    for (let i = 0; i < watched.length; i += PRESENCE_BATCH) {
      this.#command("presence.subscribe", { user_ids: watched.slice(i, i + PRESENCE_BATCH) })
        .catch((e) => this.#log.log("warn", "presence.subscribe failed", { error: String(e) }));
    }
  }

  /** Sends `ping` when the gateway has been quiet; a connection quiet for longer is dead. */
  #scheduleHeartbeat(): void {
    const interval = this.#o.heartbeatIntervalMs ?? 20_000;
    const timeout = this.#o.heartbeatTimeoutMs ?? 10_000;
    const generation = this.#generation;
    this.#clear(this.#heartbeat);
    this.#heartbeat = this.#timers.setTimeout(() => {
      if (generation !== this.#generation || !isOpen(this.#conn)) return;
      const quiet = this.#timers.now() - this.#lastReceived;
      if (quiet >= interval + timeout) {
        this.#log.log("info", "the connection is silent: reconnecting", { quietMs: quiet });
        this.#machine({ type: "silent", now: this.#timers.now() });
        return;
      }
      if (quiet >= interval && !this.#pingOutstanding) {
        this.#pingOutstanding = true;
        this.#command("ping", undefined, timeout + interval).catch(() => {}).finally(() => (this.#pingOutstanding = false));
      }
      this.#scheduleHeartbeat();
    }, Math.max(50, Math.min(interval, timeout) / 2));
  }

  #whenOpen(deadline: number): Promise<void> {
    if (isOpen(this.#conn)) return Promise.resolve();
    if (this.#conn.status === "closed" || this.#conn.status === "idle") return Promise.reject(SocialError.stopped());
    return new Promise((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        this.#openWaiters = this.#openWaiters.filter((w) => w !== waiter);
        reject(new SocialError("request_timeout", "not connected", true));
      }, Math.max(0, deadline - this.#timers.now()));
      const waiter = () => {
        this.#clear(timer);
        if (isOpen(this.#conn)) resolve();
        else reject(SocialError.stopped());
      };
      this.#openWaiters.push(waiter);
    });
  }

  /** Sends a command on the open socket (rejects `disconnected` when there is none). */
  #command<O extends Op>(op: O, args: ArgsOf<O>, timeoutMs = this.#commandTimeout()): Promise<ResultOf<O>> {
    const ws = this.#socket;
    if (!ws || !isOpen(this.#conn)) return Promise.reject(SocialError.disconnected());
    const { id, reply } = this.#commands.add(op, timeoutMs);
    try {
      ws.send(encodeCommand(id, op, args));
    } catch (e) {
      this.#commands.reject(id, SocialError.disconnected());
      this.#log.log("warn", "send failed", { op, error: String(e) });
    }
    return reply.then((result) => {
      this.#afterResult(op, args, result as ResultOf<O>);
      return result as ResultOf<O>;
    });
  }

  #commandTimeout(): number {
    return this.#o.commandTimeoutMs ?? 20_000;
  }

  #onFrame(frame: string): void {
    const now = this.#timers.now();
    for (const m of decodeFrame(frame)) {
      switch (m.kind) {
        case "reply": {
          if (m.id === null) break;
          const op = this.#commands.opOf(m.id);
          if (op === undefined) break; // a reply after its timeout
          try {
            this.#commands.resolve(m.id, decodeResult(op as Op, m.ok));
          } catch (e) {
            this.#commands.reject(m.id, SocialError.badReply(e instanceof DecodeError ? e.message : String(e)));
          }
          break;
        }
        case "error":
          if (m.error.code === "rate_limited" && m.error.retry_after_ms !== undefined) this.#lastRetryAfterMs = m.error.retry_after_ms;
          if (m.id === null || !this.#commands.reject(m.id, SocialError.fromBody(m.error))) {
            this.#log.log("warn", "error reply to no command", { code: m.error.code, message: m.error.message });
          }
          break;
        case "event":
          this.#onEvent(m.event, now);
          break;
        case "unknown_event":
          this.#log.log("debug", "ignored an unknown event", { event: m.name });
          break;
        case "invalid":
          this.#log.log("warn", "ignored a malformed message", { reason: m.reason });
          break;
      }
    }
    void this.#maybeSync();
  }

  #onEvent(event: ServerEvent, now: number): void {
    this.#apply({ type: "event", event, now });
    if (event.event === "typing") this.#scheduleTypingExpiry();
    for (const l of this.#eventListeners) {
      try {
        l(event);
      } catch (e) {
        this.#log.log("error", "an event listener threw", { error: String(e) });
      }
    }
  }

  // ---- sync ----

  /** Runs `sync` until nothing more is needed, following `more`; events meanwhile are buffered by the reducer. */
  async #maybeSync(): Promise<void> {
    if (this.#syncing || !isOpen(this.#conn) || !this.#state.sync.needed) return;
    this.#syncing = true;
    const generation = this.#generation;
    const started = this.#timers.now();
    let calls = 0;
    let ok = false;
    this.#apply({ type: "sync_started" });
    this.#machine({ type: "sync_started" });
    try {
      for (;;) {
        const result = await this.#command("sync", this.#syncArgs());
        calls++;
        this.#apply({ type: "sync_page", result });
        if (!result.more && !result.notifications?.more) break;
      }
      this.#apply({ type: "sync_finished", now: this.#timers.now() });
      this.#stats.syncs++;
      this.#stats.syncMs += this.#timers.now() - started;
      ok = true;
      this.#log.log("debug", "synced", { calls, ms: this.#timers.now() - started });
      this.#machine({ type: "synced" });
    } catch (e) {
      this.#apply({ type: "sync_aborted" });
      const error = e instanceof SocialError ? e : SocialError.badReply(String(e));
      this.#log.log(error.code === "disconnected" ? "debug" : "warn", "sync failed", { code: error.code, message: error.message });
      if (error.code !== "disconnected" && generation === this.#generation) {
        // A temporary error: again after the time the gateway asks for, or a second.
        this.#clear(this.#syncRetry);
        this.#syncRetry = this.#timers.setTimeout(() => void this.#maybeSync(), error.retryAfterMs ?? 1_000);
      }
    } finally {
      this.#stats.syncCalls += calls;
      this.#syncing = false;
    }
    if (ok) void this.#maybeSync(); // a gap or resync seen during this one
  }

  #syncArgs(): SyncArgs {
    const s = this.#state;
    return {
      chats: Object.values(s.chats).map((v) =>
        strip({ chat_id: v.chat.chat_id, seq: v.position, read_seq: v.unreadKnown ? v.chat.read_seq : undefined })
      ),
      limit: this.#o.syncLimit ?? 500,
      notifications_after: s.notifications.position,
    };
  }

  // ---- state ----

  #apply(action: StateAction): void {
    const next = reduce(this.#state, action, this.#stateConfig);
    if (next === this.#state) return;
    this.#state = next;
    this.#publish();
  }

  /** What a command's result changes in the state. */
  #afterResult<O extends Op>(op: O, args: ArgsOf<O>, result: ResultOf<O>): void {
    const r = result as Record<string, unknown>;
    const a = (args ?? {}) as Record<string, unknown>;
    switch (op) {
      case "chat.send":
      case "chat.edit":
      case "chat.delete":
      case "chat.react":
        this.#apply({ type: "message_reply", message: r.message as Message });
        break;
      case "chat.read":
        this.#apply({ type: "read_reply", chatId: r.chat_id as string, readSeq: r.read_seq as number });
        break;
      case "group.create":
      case "group.join":
        this.#apply({ type: "chat_reply", chat: (result as ResultOf<"group.create">).group });
        break;
      case "chat.open_direct":
        this.#apply({ type: "chat_reply", chat: (result as ResultOf<"chat.open_direct">).chat });
        break;
      case "chat.history":
        this.#apply({
          type: "history",
          chatId: a.chat_id as string,
          before: a.before as number | undefined,
          after: a.after as number | undefined,
          result: result as ResultOf<"chat.history">,
        });
        break;
      case "presence.set":
        this.#apply({ type: "presence", presence: [(result as ResultOf<"presence.set">).presence] });
        break;
      case "presence.subscribe":
      case "presence.query":
        this.#apply({ type: "presence", presence: (result as ResultOf<"presence.query">).presence });
        break;
      case "notifications.list": {
        const page = result as ResultOf<"notifications.list">;
        this.#apply({ type: "notifications_page", notifications: page.notifications, unread: page.unread });
        break;
      }
      case "notifications.ack":
        this.#apply({ type: "notifications_badge", unread: r.unread as number });
        break;
    }
  }

  #scheduleTypingExpiry(): void {
    let earliest = Infinity;
    for (const v of Object.values(this.#state.chats)) for (const t of v.typing) earliest = Math.min(earliest, t.until);
    if (earliest === Infinity) return;
    this.#clear(this.#typingTimer);
    this.#typingTimer = this.#timers.setTimeout(() => {
      this.#apply({ type: "typing_expired", now: this.#timers.now() });
      this.#scheduleTypingExpiry();
    }, Math.max(0, earliest - this.#timers.now()));
  }

  #onOutboxChanged(entries: readonly OutboxEntry[]): void {
    this.#outboxEntries = entries;
    for (const e of entries) {
      // Each queued send gets its local echo once (also those loaded from the storage after a restart).
      if (e.command.op !== "chat.send" || this.#echoed.has(e.id)) continue;
      this.#echoed.add(e.id);
      const { args } = e.command;
      this.#apply({
        type: "pending_add",
        message: strip({
          chat_id: e.chatId,
          client_msg_id: e.id,
          text: args.text,
          kind: args.kind,
          reply_to: args.reply_to,
          attachments: args.attachments,
          data: args.data,
          queued_at: e.queuedAt,
          status: e.status === "failed" ? "failed" as const : "sending" as const,
          error: e.error,
        }),
      });
    }
    this.#publish();
  }

  #onOutboxAcked(entry: OutboxEntry, result: OutboxResult): void {
    this.#echoed.delete(entry.id);
    if (result.message) this.#apply({ type: "message_reply", message: result.message });
    if (entry.command.op === "chat.send") this.#apply({ type: "pending_remove", chatId: entry.chatId, clientMsgId: entry.id });
  }

  #onOutboxFailed(entry: OutboxEntry, error: SocialError): void {
    this.#log.log("warn", "an outbox entry failed", { op: entry.command.op, code: error.code, message: error.message });
    if (entry.command.op === "chat.send") {
      this.#apply({
        type: "pending_update",
        chatId: entry.chatId,
        clientMsgId: entry.id,
        patch: { status: "failed", error: { code: error.code, message: error.message } },
      });
    }
    for (const l of this.#failureListeners) l(entry, error);
  }

  #publish(): void {
    const c = this.#conn;
    const info = this.#connInfo;
    if (info.status !== c.status || info.attempt !== c.attempt || info.lastClose !== c.lastClose || info.fatal !== c.fatal) {
      this.#connInfo = strip({ status: c.status, attempt: c.attempt, lastClose: c.lastClose, fatal: c.fatal });
    }
    const snap = this.#store.getSnapshot();
    if (snap.connection === this.#connInfo && snap.outbox === this.#outboxEntries && stateOf(snap) === this.#state) return;
    this.#store.set(this.#compose());
  }

  #compose(): ClientSnapshot {
    const snapshot = { ...this.#state, connection: this.#connInfo, outbox: this.#outboxEntries };
    states.set(snapshot, this.#state);
    return snapshot;
  }

  #clear(handle: unknown): void {
    if (handle !== undefined) this.#timers.clearTimeout(handle);
  }
}

/** The state each snapshot was made from, to tell whether it changed. */
const states = new WeakMap<ClientSnapshot, SocialState>();
function stateOf(snapshot: ClientSnapshot): SocialState | undefined {
  return states.get(snapshot);
}

/** Drops `undefined` members, so optional fields are absent on the wire and in the state. */
function strip<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}
