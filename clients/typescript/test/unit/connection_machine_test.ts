/** The connection state machine, driven by inputs alone: no socket, no timer, no clock. */
import { fullJitter } from "../../src/connection/backoff.ts";
import {
  type Action,
  type ConnectionState,
  defaultMachineConfig,
  type Env,
  initialState,
  type Input,
  type MachineConfig,
  transition,
} from "../../src/connection/machine.ts";
import { assert, assertEquals } from "../support/assert.ts";

function env(random = 0.5, config: Partial<MachineConfig> = {}): Env {
  return { config: { ...defaultMachineConfig, ...config }, random: () => random };
}

/** Runs inputs in order, returning the final state and every action. */
function run(inputs: Input[], e = env(), from: ConnectionState = initialState) {
  let state = from;
  const actions: Action[] = [];
  for (const input of inputs) {
    const step = transition(state, input, e);
    state = step.state;
    actions.push(...step.actions);
  }
  return { state, actions };
}

const opened = (now = 0): Input[] => [{ type: "start" }, { type: "socket_open", now }, { type: "synced" }];
const closed = (now: number, code = 1006, extra = {}): Input => ({
  type: "socket_closed",
  now,
  close: { code, reason: "", ...extra },
});

Deno.test("start opens a socket and arms the connect timeout; open starts a sync; synced is live", () => {
  let step = transition(initialState, { type: "start" }, env());
  assertEquals(step.state.status, "connecting");
  assertEquals(step.actions, [
    { type: "open_socket", refreshToken: false },
    { type: "set_timer", name: "connect_timeout", ms: defaultMachineConfig.connectTimeoutMs },
  ]);
  step = transition(step.state, { type: "socket_open", now: 1000 }, env());
  assertEquals(step.state.status, "syncing");
  assertEquals(step.actions, [{ type: "clear_timer", name: "connect_timeout" }, { type: "start_sync" }]);
  step = transition(step.state, { type: "synced" }, env());
  assertEquals(step.state.status, "live");
  // A gap later: syncing again, then live.
  assertEquals(transition(step.state, { type: "sync_started" }, env()).state.status, "syncing");
});

Deno.test("failures back off exponentially with full jitter", () => {
  const e = env(0.999);
  const { state, actions } = run([{ type: "start" }, closed(1), { type: "timer", name: "reconnect", now: 2 }, closed(3), {
    type: "timer",
    name: "reconnect",
    now: 4,
  }, closed(5)], e);
  assertEquals(state.status, "backing_off");
  assertEquals(state.attempt, 3);
  const delays = actions.flatMap((a) => (a.type === "set_timer" && a.name === "reconnect" ? [a.ms] : []));
  assertEquals(delays, [499, 999, 1998]);
  // Full jitter: anywhere from 0 to the ceiling, and the ceiling stops at maxDelayMs.
  assertEquals(fullJitter(0, defaultMachineConfig.backoff, 0), 0);
  assertEquals(fullJitter(20, defaultMachineConfig.backoff, 0.999999), 29_999);
});

Deno.test("a connection that stayed up resets the backoff; a short one does not", () => {
  const short = run([...opened(0), closed(1_000), { type: "timer", name: "reconnect", now: 1_500 }, { type: "socket_open", now: 1_600 }, closed(2_000)]);
  assertEquals(short.state.attempt, 2);
  const long = run([...opened(0), closed(1_000), { type: "timer", name: "reconnect", now: 1_500 }, { type: "socket_open", now: 1_600 }, closed(60_000)]);
  assertEquals(long.state.attempt, 1);
});

Deno.test("1008 or an HTTP 401: one immediate reconnect with a fresh token, then backoff that keeps refreshing", () => {
  let r = run([...opened(0), closed(5, 1008, { unauthorized: true })]);
  assertEquals(r.state.status, "connecting");
  assert(r.actions.some((a) => a.type === "open_socket" && a.refreshToken), "fresh token asked");
  assert(!r.actions.some((a) => a.type === "set_timer" && a.name === "reconnect"), "no delay before the fresh token");
  r = run([closed(6, 1006, { unauthorized: true })], env(), r.state);
  assertEquals(r.state.status, "backing_off");
  r = run([{ type: "timer", name: "reconnect", now: 10_000 }], env(), r.state);
  assert(r.actions.some((a) => a.type === "open_socket" && a.refreshToken), "still asks for a fresh token");
  // A good connection clears refreshToken once it opened.
  r = run([{ type: "socket_open", now: 10_001 }], env(), r.state);
  assertEquals(r.state.refreshToken, false);
});

Deno.test("fatal closes stop the machine; 403 too", () => {
  for (const code of [1002, 1003, 1007]) {
    const { state } = run([...opened(), closed(1, code)]);
    assertEquals(state.status, "closed", `code ${code}`);
    assert(state.fatal?.includes(String(code)));
  }
  assertEquals(run([{ type: "start" }, closed(1, 1006, { forbidden: true })]).state.status, "closed");
  // Unknown 4xxx codes, 1011, 4000, 4001, 4003: reconnect with backoff.
  for (const code of [1011, 4000, 4001, 4003, 4999, 1006]) {
    assertEquals(run([...opened(), closed(1, code)]).state.status, "backing_off", `code ${code}`);
  }
});

Deno.test("1001 reconnects after a short random delay; 4004 after at least retry_after_ms and the floor", () => {
  const goingAway = run([...opened(), closed(1, 1001)], env(0.5));
  assertEquals(goingAway.state.delayMs, 1_000);
  const limited = run([...opened(), closed(1, 4004, { retryAfterMs: 8_000 })], env(0));
  assertEquals(limited.state.delayMs, 8_000);
  const floor = run([...opened(), closed(1, 4004, { retryAfterMs: 100 })], env(0));
  assertEquals(floor.state.delayMs, 5_000);
});

Deno.test("networkUp and foreground reconnect at once; network down waits without timers", () => {
  const backing = run([...opened(), closed(1)]).state;
  const up = transition(backing, { type: "network", up: true }, env());
  assertEquals(up.state.status, "connecting");
  assert(up.actions.some((a) => a.type === "clear_timer" && a.name === "reconnect"));
  const down = transition(backing, { type: "network", up: false }, env());
  assertEquals(down.state.status, "waiting_for_network");
  // While the network is down a failure waits for it instead of setting a timer.
  const failed = run([closed(2)], env(), { ...run(opened()).state, networkUp: false });
  assertEquals(failed.state.status, "waiting_for_network");
  assert(!failed.actions.some((a) => a.type === "set_timer" && a.name === "reconnect"));
  assertEquals(transition(failed.state, { type: "network", up: true }, env()).state.status, "connecting");
  assertEquals(transition(backing, { type: "app_state", foreground: true }, env()).state.status, "connecting");
});

Deno.test("a long background closes the connection when asked, and the foreground reconnects", () => {
  const live = run(opened()).state;
  // Not asked: going to the background changes nothing.
  assertEquals(transition(live, { type: "app_state", foreground: false }, env()).actions, []);
  const e = env(0.5, { backgroundCloseAfterMs: 60_000 });
  let r = run([{ type: "app_state", foreground: false }], e, live);
  assertEquals(r.actions, [{ type: "set_timer", name: "background", ms: 60_000 }]);
  r = run([{ type: "timer", name: "background", now: 60_000 }], e, r.state);
  assertEquals(r.state.status, "suspended");
  assert(r.actions.some((a) => a.type === "close_socket"));
  r = run([{ type: "app_state", foreground: true }], e, r.state);
  assertEquals(r.state.status, "connecting");
  // Back in the foreground before the timer: the timer is cleared and nothing closes.
  const back = run([{ type: "app_state", foreground: false }, { type: "app_state", foreground: true }], e, live);
  assertEquals(back.state.status, "live");
  assert(back.actions.some((a) => a.type === "clear_timer" && a.name === "background"));
});

Deno.test("silence and a connect timeout count as failures; stop closes and clears everything", () => {
  const silent = run([...opened(), { type: "silent", now: 3 }]);
  assertEquals(silent.state.status, "backing_off");
  assert(silent.actions.some((a) => a.type === "close_socket"));
  const slow = run([{ type: "start" }, { type: "timer", name: "connect_timeout", now: 15_000 }]);
  assertEquals(slow.state.status, "backing_off");
  const stopped = run([...opened(), { type: "stop" }]);
  assertEquals(stopped.state.status, "closed");
  assert(stopped.actions.some((a) => a.type === "close_socket"));
  // Late inputs after stop change nothing.
  assertEquals(run([closed(9), { type: "timer", name: "reconnect", now: 9 }], env(), stopped.state).state.status, "closed");
  // Start again after stop.
  assertEquals(transition(stopped.state, { type: "start" }, env()).state.status, "connecting");
});
