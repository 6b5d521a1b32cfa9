/**
 * Every example frame of protocol/examples/ is decoded by the SDK and encoded
 * again: the result must be the same JSON. A field the SDK does not know is
 * dropped by its decoders, so a protocol change the SDK has not followed
 * fails here. The op and event lists of the protocol README, and the error
 * codes of errors.md, must be exactly the SDK's.
 */
import { decodeCommand, decodeFrame, decodeResult, decodeServerValue, encodeCommand, encodeEvent, encodeReply } from "../../src/protocol/codec.ts";
import { EVENTS } from "../../src/protocol/events.ts";
import { isOp, OPS } from "../../src/protocol/ops.ts";
import { ServerErrorCode } from "../../src/errors.ts";
import { assert, assertEquals } from "../support/assert.ts";

const protocolDir = new URL("../../../../protocol/", import.meta.url);
const examplesDir = new URL("examples/", protocolDir);

function examples(): { name: string; json: unknown }[] {
  const out = [];
  for (const entry of Deno.readDirSync(examplesDir)) {
    if (!entry.name.endsWith(".json")) continue;
    out.push({ name: entry.name, json: JSON.parse(Deno.readTextFileSync(new URL(entry.name, examplesDir))) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** `chat.send.command.json` → {base: "chat.send", kind: "command"}; `--variant` suffixes are dropped. */
function parseName(file: string): { base: string; kind: string } {
  const stem = file.replace(/\.json$/, "").replace(/--.*$/, "");
  const dot = stem.lastIndexOf(".");
  return { base: stem.slice(0, dot), kind: stem.slice(dot + 1) };
}

Deno.test("every example frame decodes and re-encodes to the same JSON", () => {
  const all = examples();
  assert(all.length >= 80, `expected the protocol's examples, found ${all.length}`);
  let commands = 0, replies = 0, errors = 0, events = 0;
  for (const { name, json } of all) {
    const { base, kind } = parseName(name);
    if (kind === "command") {
      const cmd = decodeCommand(json);
      assertEquals(cmd.op, base, name);
      assertEquals(JSON.parse(encodeCommand(cmd.id, cmd.op, cmd.args, cmd.traceparent)), json, name);
      commands++;
    } else if (kind === "reply" && base.startsWith("error.")) {
      const msg = decodeServerValue(json);
      assert(msg.kind === "error", `${name}: decoded as ${msg.kind}`);
      assertEquals(msg.error.code, base.slice("error.".length), name);
      assertEquals({ id: msg.id, error: msg.error }, json, name);
      errors++;
    } else if (kind === "reply") {
      assert(isOp(base), `${name}: unknown op ${base}`);
      const msg = decodeServerValue(json);
      assert(msg.kind === "reply" && msg.id !== null, `${name}: decoded as ${msg.kind}`);
      const result = decodeResult(base, msg.ok);
      assertEquals(encodeReply(msg.id, base, result), json, name);
      replies++;
    } else if (kind === "event") {
      const msg = decodeServerValue(json);
      assert(msg.kind === "event", `${name}: decoded as ${msg.kind}`);
      assertEquals(msg.event.event, base, name);
      assertEquals(encodeEvent(msg.event), json, name);
      events++;
    } else {
      throw new Error(`${name}: unexpected example name`);
    }
  }
  assert(commands > 0 && replies > 0 && errors > 0 && events > 0);
  console.log(`  ${commands} commands, ${replies} replies, ${errors} error replies, ${events} events`);
});

Deno.test("every op and event of the SDK has examples, and every example names one", () => {
  const names = new Set(examples().map((e) => e.name));
  for (const op of Object.keys(OPS)) {
    assert(names.has(`${op}.command.json`), `no command example for ${op}`);
    assert(names.has(`${op}.reply.json`), `no reply example for ${op}`);
  }
  for (const event of Object.keys(EVENTS)) assert(names.has(`${event}.event.json`), `no example for event ${event}`);
});

/** The first column of the README's index tables: "| [`op`](ops.md#...) |". */
function indexNames(section: string): string[] {
  const readme = Deno.readTextFileSync(new URL("README.md", protocolDir));
  const start = readme.indexOf(section);
  assert(start >= 0, `no "${section}" in the protocol README`);
  const table = readme.slice(start).split("\n\n")[1];
  return [...table.matchAll(/^\| \[`([a-z_.]+)`\]/gm)].map((m) => m[1]);
}

Deno.test("the SDK has exactly the ops and events of the protocol README's index", () => {
  const ops = indexNames("Ops ([ops.md](ops.md)):");
  const events = indexNames("Events ([events.md](events.md)):");
  assert(ops.length > 20 && events.length > 10, "index tables not found");
  assertEquals(new Set(Object.keys(OPS)), new Set(ops));
  assertEquals(new Set(Object.keys(EVENTS)), new Set(events));
});

Deno.test("the SDK knows exactly the error codes of errors.md", () => {
  const doc = Deno.readTextFileSync(new URL("errors.md", protocolDir));
  const codes = [...doc.matchAll(/^\| `([a-z_]+)` \| (yes|no) \|/gm)].map((m) => m[1]);
  assert(codes.length >= 10);
  assertEquals(new Set(Object.values(ServerErrorCode)), new Set(codes));
});

Deno.test("a batched frame is split on line feeds, each line one message", () => {
  const lines = examples().filter((e) => e.name.endsWith(".event.json") || e.name.endsWith(".reply.json"));
  const frame = lines.map((e) => JSON.stringify(e.json)).join("\n") + "\n";
  const decoded = decodeFrame(frame);
  assertEquals(decoded.length, lines.length);
  assert(decoded.every((m) => m.kind !== "invalid"), "a batched line did not decode");
  assertEquals(decodeFrame('{"event":"resync","data":{"reason":"x"}}').length, 1);
  assertEquals(decodeFrame("").length, 0);
});

Deno.test("unknown events and fields are ignored, malformed lines are reported", () => {
  assertEquals(decodeServerValue({ event: "chat.pinned", data: {} }), { kind: "unknown_event", name: "chat.pinned" });
  const m = decodeServerValue({ event: "resync", data: { reason: "bus", extra: 1 } });
  assert(m.kind === "event");
  assertEquals(m.event.data, { reason: "bus" });
  assertEquals(decodeServerValue({ event: "read", data: { chat_id: "c" } }).kind, "invalid");
  assertEquals(decodeFrame("{not json")[0].kind, "invalid");
});
