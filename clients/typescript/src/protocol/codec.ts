/**
 * Frames to messages and back. The gateway may put several messages in one
 * text frame, separated by `\n` (protocol README, "Servers batch").
 */
import { bool, DecodeError, int, isObject, type JsonValue, object, opt, str } from "./decode.ts";
import { type EventName, EVENTS, isEventName, type ServerEvent } from "./events.ts";
import { type ArgsOf, isOp, type Op, OPS, type ResultOf } from "./ops.ts";
import type { ErrorBody } from "../errors.ts";

/** A message from the server, decoded as far as it can be without knowing which op a reply answers. */
export type ServerMessage =
  | { kind: "reply"; id: number | null; ok: unknown }
  | { kind: "error"; id: number | null; error: ErrorBody }
  | { kind: "event"; event: ServerEvent }
  /** An event this SDK does not know: clients must ignore it. */
  | { kind: "unknown_event"; name: string }
  /** A line that is not a message of protocol v1, or a known event of the wrong shape. */
  | { kind: "invalid"; reason: string };

/** The lines of one text frame: each non-empty line is one message. */
export function splitFrame(frame: string): string[] {
  if (!frame.includes("\n")) return frame.length > 0 ? [frame] : [];
  return frame.split("\n").filter((line) => line.length > 0);
}

/** Decodes every message of a text frame. */
export function decodeFrame(frame: string): ServerMessage[] {
  return splitFrame(frame).map(decodeServerMessage);
}

const errorBody = object({ code: str, message: str, temporary: bool, retry_after_ms: opt(int) });

export function decodeServerMessage(line: string): ServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: "invalid", reason: "not JSON" };
  }
  return decodeServerValue(value);
}

export function decodeServerValue(value: unknown): ServerMessage {
  if (!isObject(value)) return { kind: "invalid", reason: "not a JSON object" };
  try {
    if ("event" in value) {
      const name = str(value.event, "event");
      if (!isEventName(name)) return { kind: "unknown_event", name };
      const data = EVENTS[name](value.data, "data");
      return { kind: "event", event: { event: name, data } as ServerEvent };
    }
    if ("id" in value) {
      const id = value.id === null ? null : int(value.id, "id");
      if ("error" in value) return { kind: "error", id, error: errorBody(value.error, "error") };
      if ("ok" in value) return { kind: "reply", id, ok: value.ok };
    }
    return { kind: "invalid", reason: "neither a reply nor an event" };
  } catch (e) {
    if (e instanceof DecodeError) return { kind: "invalid", reason: e.message };
    throw e;
  }
}

/** Checks an ok reply's result against the op's result decoder (throws `DecodeError`). */
export function decodeResult<O extends Op>(op: O, ok: unknown): ResultOf<O> {
  return OPS[op].result(ok, "ok") as ResultOf<O>;
}

/**
 * The text of a command frame. Ops without args are sent without `args`;
 * `traceparent` (W3C Trace Context, protocol/README.md) only when given.
 */
export function encodeCommand<O extends Op>(id: number, op: O, args: ArgsOf<O>, traceparent?: string): string {
  const frame: Record<string, unknown> = { id, op };
  if (traceparent !== undefined) frame.traceparent = traceparent;
  if (args !== undefined) frame.args = stripUndefined(args);
  return JSON.stringify(frame);
}

/** Removes `undefined` members, so that optional fields are absent rather than null. */
function stripUndefined(args: unknown): unknown {
  if (!isObject(args)) return args;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (v !== undefined) out[k] = v;
  return out;
}

// ---- the other direction, for tests and fakes: decode commands, encode replies and events ----

export interface DecodedCommand<O extends Op = Op> {
  id: number;
  op: O;
  args: ArgsOf<O>;
  traceparent?: string;
}

/** Decodes a command frame's JSON (used by the example test and by the test fakes). */
export function decodeCommand(value: unknown): DecodedCommand {
  if (!isObject(value)) throw new DecodeError("", "a command object");
  const id = int(value.id, "id");
  const op = str(value.op, "op");
  if (!isOp(op)) throw new DecodeError("op", "a known op");
  const args = OPS[op].args(value.args, "args");
  const traceparent = value.traceparent === undefined ? undefined : str(value.traceparent, "traceparent");
  return (traceparent === undefined ? { id, op, args } : { id, op, args, traceparent }) as DecodedCommand;
}

/** The JSON of an ok reply. */
export function encodeReply<O extends Op>(id: number, _op: O, result: ResultOf<O>): { id: number; ok: JsonValue } {
  return { id, ok: result as unknown as JsonValue };
}

export function encodeErrorReply(id: number | null, error: ErrorBody): { id: number | null; error: ErrorBody } {
  return { id, error };
}

export function encodeEvent(event: ServerEvent): { event: EventName; data: JsonValue } {
  return { event: event.event, data: event.data as unknown as JsonValue };
}
