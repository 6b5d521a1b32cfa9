/**
 * The connection's lifecycle as pure functions: `transition(state, input)`
 * returns the next state and the actions the driver must carry out (open or
 * close the socket, set or clear a timer, start a sync). No sockets, no
 * timers, no clock: time and randomness come in with the inputs, so every
 * path is unit-tested without a network.
 *
 *   idle ─start→ connecting ─open→ syncing ⇄ live
 *                   ↑   │                │ (socket closed, silent, …)
 *                   │   └────fail──→ backing_off ←┘
 *                   └──timer / networkUp / foreground──┘
 *   background for long → suspended;  network down → waiting_for_network;
 *   stop() or a fatal close → closed
 */
import { type BackoffConfig, defaultBackoff, fullJitter } from "./backoff.ts";

export type ConnectionStatus =
  | "idle"
  | "connecting"
  | "syncing"
  | "live"
  | "backing_off"
  | "waiting_for_network"
  | "suspended"
  | "closed";

export interface ConnectionState {
  readonly status: ConnectionStatus;
  /** Failed attempts since the last connection that stayed up. */
  readonly attempt: number;
  /** The next connect asks the token provider for a fresh token. */
  readonly refreshToken: boolean;
  /** A fresh token was already tried after an auth failure (reset by a connection that stayed up). */
  readonly authRetried: boolean;
  /** When the current socket opened. */
  readonly openedAt?: number;
  readonly networkUp: boolean;
  readonly foreground: boolean;
  /** The last close the gateway (or the network) caused. */
  readonly lastClose?: CloseInfo;
  /** Why the machine stopped for good, for `closed` after a fatal close. */
  readonly fatal?: string;
  /** The delay chosen for the current `backing_off`. */
  readonly delayMs?: number;
}

export interface CloseInfo {
  /** The WebSocket close code; 1006 when the connection dropped without one. */
  readonly code: number;
  readonly reason: string;
  /** The handshake was refused with HTTP 401, or the session closed with 1008: the token is bad. */
  readonly unauthorized?: boolean;
  /** The handshake was refused with HTTP 403 (`forbidden_origin`). */
  readonly forbidden?: boolean;
  /** The last `retry_after_ms` seen before a 4004 close. */
  readonly retryAfterMs?: number;
}

export type TimerName = "reconnect" | "connect_timeout" | "background";

export type Input =
  | { type: "start" }
  | { type: "stop" }
  | { type: "socket_open"; now: number }
  /** The socket closed or failed without the client asking for it. */
  | { type: "socket_closed"; now: number; close: CloseInfo }
  /** The heartbeat saw nothing from the server for too long: the connection is dead even if the socket says open. */
  | { type: "silent"; now: number }
  | { type: "sync_started" }
  | { type: "synced" }
  | { type: "timer"; name: TimerName; now: number }
  | { type: "network"; up: boolean }
  | { type: "app_state"; foreground: boolean };

export type Action =
  | { type: "open_socket"; refreshToken: boolean }
  | { type: "close_socket"; code: number; reason: string }
  | { type: "set_timer"; name: TimerName; ms: number }
  | { type: "clear_timer"; name: TimerName }
  | { type: "start_sync" };

export interface MachineConfig {
  backoff: BackoffConfig;
  /** A connection open at least this long resets the backoff. Default 10 s. */
  stableAfterMs: number;
  /** A connect (TCP + handshake) that takes longer is abandoned. Default 15 s. */
  connectTimeoutMs: number;
  /** Upper bound of the random delay after `1001` (a draining node). Default 2 s. */
  goingAwayDelayMs: number;
  /** Least delay after `4004` (rate limits exceeded), plus jitter. Default 5 s. */
  rateLimitedDelayMs: number;
  /** Close the connection this long after the app went to the background; `null`: never. */
  backgroundCloseAfterMs: number | null;
}

export const defaultMachineConfig: MachineConfig = {
  backoff: defaultBackoff,
  stableAfterMs: 10_000,
  connectTimeoutMs: 15_000,
  goingAwayDelayMs: 2_000,
  rateLimitedDelayMs: 5_000,
  backgroundCloseAfterMs: null,
};

export interface Env {
  config: MachineConfig;
  /** A number in [0, 1). */
  random: () => number;
}

export interface Step {
  state: ConnectionState;
  actions: Action[];
}

export const initialState: ConnectionState = {
  status: "idle",
  attempt: 0,
  refreshToken: false,
  authRetried: false,
  networkUp: true,
  foreground: true,
};

/** Close codes after which retrying unchanged fails the same way (close-codes.md). */
const FATAL_CODES = new Set([1002, 1003, 1007]);

const OPEN: ReadonlySet<ConnectionStatus> = new Set(["syncing", "live"]);

export function isOpen(state: ConnectionState): boolean {
  return OPEN.has(state.status);
}

export function transition(state: ConnectionState, input: Input, env: Env): Step {
  switch (input.type) {
    case "start":
      if (state.status !== "idle" && state.status !== "closed") return same(state);
      return connect({ ...state, attempt: 0, authRetried: false, fatal: undefined, refreshToken: false }, [], env);

    case "stop": {
      const actions: Action[] = clearAll();
      if (state.status === "connecting" || isOpen(state)) actions.push({ type: "close_socket", code: 1000, reason: "stop" });
      return { state: { ...state, status: "closed", openedAt: undefined }, actions };
    }

    case "socket_open":
      if (state.status !== "connecting") return same(state);
      return {
        state: { ...state, status: "syncing", openedAt: input.now, refreshToken: false },
        actions: [{ type: "clear_timer", name: "connect_timeout" }, { type: "start_sync" }],
      };

    case "sync_started":
      return state.status === "live" ? { state: { ...state, status: "syncing" }, actions: [] } : same(state);

    case "synced":
      return state.status === "syncing" ? { state: { ...state, status: "live" }, actions: [] } : same(state);

    case "socket_closed":
      if (state.status !== "connecting" && !isOpen(state)) return same(state);
      return afterClose(state, input.now, input.close, [{ type: "clear_timer", name: "connect_timeout" }], env);

    case "silent":
      if (!isOpen(state)) return same(state);
      return afterClose(state, input.now, { code: 1006, reason: "no answer from the server" }, [
        { type: "close_socket", code: 1000, reason: "silent" },
      ], env);

    case "timer":
      return onTimer(state, input, env);

    case "network":
      return onNetwork(state, input.up, env);

    case "app_state":
      return onAppState(state, input.foreground, env);
  }
}

function onTimer(state: ConnectionState, input: { name: TimerName; now: number }, env: Env): Step {
  switch (input.name) {
    case "reconnect":
      return state.status === "backing_off" ? connect(state, [], env) : same(state);
    case "connect_timeout":
      if (state.status !== "connecting") return same(state);
      return afterClose(state, input.now, { code: 1006, reason: "connect timed out" }, [
        { type: "close_socket", code: 1000, reason: "connect timeout" },
      ], env);
    case "background":
      if (state.foreground || state.status === "closed" || state.status === "idle") return same(state);
      return {
        state: { ...state, status: "suspended", openedAt: undefined },
        actions: [
          { type: "clear_timer", name: "reconnect" },
          { type: "clear_timer", name: "connect_timeout" },
          ...(state.status === "connecting" || isOpen(state)
            ? [{ type: "close_socket", code: 1000, reason: "background" } as Action]
            : []),
        ],
      };
  }
}

function onNetwork(state: ConnectionState, up: boolean, env: Env): Step {
  const next = { ...state, networkUp: up };
  if (up && (state.status === "backing_off" || state.status === "waiting_for_network")) {
    return connect({ ...next, attempt: 0 }, [{ type: "clear_timer", name: "reconnect" }], env);
  }
  if (!up && state.status === "backing_off") {
    return { state: { ...next, status: "waiting_for_network" }, actions: [{ type: "clear_timer", name: "reconnect" }] };
  }
  return { state: next, actions: [] };
}

function onAppState(state: ConnectionState, foreground: boolean, env: Env): Step {
  const next = { ...state, foreground };
  if (foreground) {
    const actions: Action[] = [{ type: "clear_timer", name: "background" }];
    if (state.status === "backing_off" || state.status === "suspended") {
      return connect({ ...next, attempt: 0 }, [...actions, { type: "clear_timer", name: "reconnect" }], env);
    }
    return { state: next, actions };
  }
  const ms = env.config.backgroundCloseAfterMs;
  if (ms === null || state.status === "closed" || state.status === "idle") return { state: next, actions: [] };
  return { state: next, actions: [{ type: "set_timer", name: "background", ms }] };
}

/** The socket is gone (or given up on): decide how long to wait before the next attempt. */
function afterClose(state: ConnectionState, now: number, close: CloseInfo, actions: Action[], env: Env): Step {
  const { config } = env;
  const stayedUp = state.openedAt !== undefined && now - state.openedAt >= config.stableAfterMs;
  const base: ConnectionState = {
    ...state,
    openedAt: undefined,
    lastClose: close,
    attempt: stayedUp ? 0 : state.attempt,
    authRetried: stayedUp ? false : state.authRetried,
  };

  if (close.forbidden || FATAL_CODES.has(close.code)) {
    return {
      state: { ...base, status: "closed", fatal: `closed with ${close.forbidden ? "HTTP 403" : close.code}: ${close.reason}` },
      actions: [...actions, { type: "clear_timer", name: "reconnect" }],
    };
  }
  if (close.unauthorized) {
    // A fresh token once, at once; if that fails too, back off (still asking for fresh tokens).
    if (!base.authRetried) return connect({ ...base, refreshToken: true, authRetried: true }, actions, env);
    return backOff({ ...base, refreshToken: true }, delayFor(base, close, env), actions);
  }
  return backOff(base, delayFor(base, close, env), actions);
}

function delayFor(state: ConnectionState, close: CloseInfo, env: Env): number {
  const { config } = env;
  if (close.code === 1001) return Math.floor(env.random() * config.goingAwayDelayMs);
  const jitter = fullJitter(state.attempt, config.backoff, env.random());
  if (close.code === 4004) return Math.max(close.retryAfterMs ?? 0, config.rateLimitedDelayMs) + jitter;
  return jitter;
}

function backOff(state: ConnectionState, delayMs: number, actions: Action[]): Step {
  const attempt = state.attempt + 1;
  if (!state.networkUp) {
    return { state: { ...state, attempt, status: "waiting_for_network", delayMs: undefined }, actions };
  }
  return {
    state: { ...state, attempt, status: "backing_off", delayMs },
    actions: [...actions, { type: "set_timer", name: "reconnect", ms: delayMs }],
  };
}

function connect(state: ConnectionState, actions: Action[], env: Env): Step {
  if (!state.networkUp) return { state: { ...state, status: "waiting_for_network" }, actions };
  return {
    state: { ...state, status: "connecting", delayMs: undefined },
    actions: [
      ...actions,
      { type: "open_socket", refreshToken: state.refreshToken },
      { type: "set_timer", name: "connect_timeout", ms: env.config.connectTimeoutMs },
    ],
  };
}

function clearAll(): Action[] {
  return [
    { type: "clear_timer", name: "reconnect" },
    { type: "clear_timer", name: "connect_timeout" },
    { type: "clear_timer", name: "background" },
  ];
}

function same(state: ConnectionState): Step {
  return { state, actions: [] };
}
