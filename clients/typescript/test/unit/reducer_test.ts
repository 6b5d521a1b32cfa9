/** The reducer: the guide's event rule, idempotence, gaps, buffering during sync, local echo, unread counts, the window. */
import { reduce, type StateAction } from "../../src/state/reducer.ts";
import { defaultStateConfig, emptyState, type SocialState, type StateConfig } from "../../src/state/types.ts";
import type { SyncChatEntry, SyncResult } from "../../src/protocol/ops.ts";
import type { ServerEvent } from "../../src/protocol/events.ts";
import { chat, ev, msg } from "../support/fixtures.ts";
import { assert, assertEquals } from "../support/assert.ts";

const C = "grp_run";
const ME = "u_maya";

function apply(state: SocialState, actions: StateAction[], config: StateConfig = defaultStateConfig): SocialState {
  return actions.reduce((s, a) => reduce(s, a, config), state);
}
const event = (e: ServerEvent): StateAction => ({ type: "event", event: e, now: 1000 });
const hello: StateAction = { type: "hello", userId: ME, deviceId: "phone" };

function entry(c: ReturnType<typeof chat>, changes: ReturnType<typeof msg>[], position: number, over: Partial<SyncChatEntry> = {}): SyncChatEntry {
  return { chat: c, changes, my_reactions: {}, position, more: false, new: false, ...over };
}
function page(chats: SyncChatEntry[], over: Partial<SyncResult> = {}): StateAction {
  return { type: "sync_page", result: { chats, removed: [], more: false, ...over } };
}

/** Maya knows the run club at position 3 (messages 1..3 held). */
function known(): SocialState {
  return apply(emptyState, [
    hello,
    event(ev.added(chat(C, 0))),
    event(ev.new(msg(C, 1))),
    event(ev.new(msg(C, 2))),
    event(ev.new(msg(C, 3))),
  ]);
}

Deno.test("an event exactly one past the position applies; at or below it is ignored; applying twice changes nothing", () => {
  const s = known();
  assertEquals(s.chats[C].position, 3);
  assertEquals(s.chats[C].messages.map((m) => m.seq), [1, 2, 3]);
  const again = apply(s, [event(ev.new(msg(C, 3))), event(ev.new(msg(C, 2)))]);
  assert(again === s, "old events must leave the very same state");
  const edited = msg(C, 2, { updated_seq: 4, text: "edited", edited_ts: 5 });
  const once = apply(s, [event(ev.edited(edited))]);
  const twice = apply(once, [event(ev.edited(edited))]);
  assert(twice === once, "the same event twice must change nothing");
  assertEquals(once.chats[C].position, 4);
  assertEquals(once.chats[C].messages[1].text, "edited");
  assertEquals(once.sync.needed, false);
});

Deno.test("a gap or an event of an unknown chat marks a sync as needed and applies nothing", () => {
  const s = known();
  const gap = apply(s, [event(ev.new(msg(C, 5)))]);
  assertEquals(gap.sync.needed, true);
  assertEquals(gap.chats[C].position, 3);
  assertEquals(gap.chats[C].messages.length, 3);
  const unknown = apply(s, [event(ev.new(msg("dm_x", 1)))]);
  assertEquals(unknown.sync.needed, true);
  assertEquals(unknown.chats["dm_x"], undefined);
  assertEquals(apply(s, [event(ev.resync())]).sync.needed, true);
});

Deno.test("events during a sync wait; after it they run through the event rule against the new positions", () => {
  let s = apply(known(), [{ type: "sync_started" }]);
  assertEquals(s.sync.inFlight, true);
  // Arrive during the sync: 4 and 5 (also in the sync reply), 6 (after it), and a read.
  s = apply(s, [event(ev.new(msg(C, 4))), event(ev.new(msg(C, 5))), event(ev.new(msg(C, 6))), event(ev.read(C, "u_leo", 6))]);
  assertEquals(s.chats[C].position, 3, "nothing applied while syncing");
  assertEquals(s.sync.buffered.length, 4);
  s = apply(s, [page([entry(chat(C, 5, { unread: 5 }), [msg(C, 4), msg(C, 5)], 5)])]);
  assertEquals(s.chats[C].position, 5);
  s = apply(s, [{ type: "sync_finished", now: 2000 }]);
  assertEquals(s.sync.inFlight, false);
  assertEquals(s.sync.buffered.length, 0);
  assertEquals(s.sync.completed, 1);
  assertEquals(s.chats[C].position, 6);
  assertEquals(s.chats[C].messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
  assertEquals(s.chats[C].readers, { u_leo: 6 });
  assertEquals(s.sync.needed, false);
  // A buffered event that is still a gap after the sync asks for another one.
  s = apply(s, [{ type: "sync_started" }, event(ev.new(msg(C, 9))), page([]), { type: "sync_finished", now: 3000 }]);
  assertEquals(s.sync.needed, true);
  assertEquals(s.chats[C].position, 6);
});

Deno.test("a sync page applies compacted changes (positions jump: not a gap), adds new chats, forgets removed ones", () => {
  let s = apply(known(), [event(ev.added(chat("grp_old", 12)))]);
  s = apply(s, [
    { type: "sync_started" },
    page([
      entry(chat(C, 9), [msg(C, 6), msg(C, 2, { updated_seq: 7, text: "edit" }), msg(C, 8, { updated_seq: 9, deleted: true, text: undefined })], 9),
      entry(chat("grp_trail", 27), [], 27, { new: true }),
    ], { removed: ["grp_old"], notifications: { changes: [{ id: 41, type: "kudos", title: "t", body: "", priority: "normal", status: "unread", created_at: 1 }], position: 41, more: false, unread: 1 } }),
    { type: "sync_finished", now: 1 },
  ]);
  assertEquals(s.chats[C].position, 9);
  assertEquals(s.chats[C].messages.map((m) => [m.seq, m.updated_seq]), [[1, 1], [2, 7], [3, 3], [6, 6], [8, 9]]);
  assertEquals(s.chats["grp_trail"].position, 27);
  assertEquals(s.chats["grp_trail"].hasOlder, true);
  assertEquals(s.chats["grp_old"], undefined);
  assertEquals(s.notifications.position, 41);
  assertEquals(s.notifications.unread, 1);
  // The same page again changes no message.
  const again = apply(s, [page([entry(chat(C, 9), [msg(C, 6)], 9)])]);
  assertEquals(again.chats[C].messages, s.chats[C].messages);
});

Deno.test("a sync reply whose changes raced past its summary ends with the summary as of the position", () => {
  // The gateway read the summary at seq 5 (last message 5, 2 unread), then the changes, which by
  // then reached seq 7: message 6 arrived and the run club was renamed (system message 7).
  const renamed = msg(C, 7, { sender: "u_leo", sender_kind: "system", kind: "system", text: undefined, system: { action: "renamed", by: "u_leo", title: "Track club" } });
  const summary = chat(C, 5, { unread: 2, last_message: msg(C, 5) });
  const s = apply(known(), [
    { type: "sync_started" },
    event(ev.new(msg(C, 6))), // the live event arrives while the sync is in flight: buffered
    page([entry(summary, [msg(C, 4), msg(C, 5), msg(C, 6), renamed], 7)]),
    { type: "sync_finished", now: 2000 },
  ]);
  const v = s.chats[C];
  assertEquals(v.position, 7);
  assertEquals(v.chat.seq, 7, "the summary's seq is the position, not the older summary's");
  assertEquals(v.chat.last_message?.seq, 7);
  assertEquals(v.chat.title, "Track club");
  assertEquals(v.chat.unread, 3, "message 6 raced in and counts; the system message does not");
  // A change older than the summary's last message does not replace it.
  const older = apply(known(), [page([entry(chat(C, 6, { last_message: msg(C, 6, { updated_seq: 6 }) }), [msg(C, 4, { updated_seq: 5, text: "edit" })], 6)])]);
  assertEquals(older.chats[C].chat.last_message?.seq, 6);
  assertEquals(older.chats[C].chat.seq, 6);
});

Deno.test("local echo: the pending message shows at once, then the stored one, never both", () => {
  const s0 = known();
  const pending = { chat_id: C, client_msg_id: "cm-1", text: "hi", queued_at: 1, status: "sending" as const };
  const s1 = apply(s0, [{ type: "pending_add", message: pending }]);
  assertEquals(s1.pending[C].length, 1);
  const stored = msg(C, 4, { sender: ME, client_msg_id: "cm-1", text: "hi" });
  // The event first…
  const viaEvent = apply(s1, [event(ev.new(stored))]);
  assertEquals(viaEvent.pending[C], undefined);
  assertEquals(viaEvent.chats[C].messages.filter((m) => m.client_msg_id === "cm-1").length, 1);
  // …or the reply first: the same end, and the later event does not add a second copy.
  const viaReply = apply(s1, [{ type: "message_reply", message: stored }]);
  assertEquals(viaReply.pending[C], undefined);
  assertEquals(viaReply.chats[C].position, 3, "a reply does not move the position");
  const both = apply(viaReply, [event(ev.new(stored))]);
  assertEquals(both.chats[C].messages.filter((m) => m.client_msg_id === "cm-1").length, 1);
  assertEquals(both.chats[C].position, 4);
  // Re-adding the echo of a stored message is refused.
  assertEquals(apply(both, [{ type: "pending_add", message: pending }]).pending[C], undefined);
});

Deno.test("unread follows new messages, deletes and this user's reads on other devices", () => {
  let s = apply(emptyState, [hello, event(ev.added(chat(C, 2, { read_seq: 2 })))]);
  s = apply(s, [event(ev.new(msg(C, 3))), event(ev.new(msg(C, 4))), event(ev.new(msg(C, 5, { sender: ME })))]);
  assertEquals(s.chats[C].chat.unread, 2, "own messages do not count");
  s = apply(s, [event(ev.deleted(msg(C, 4, { updated_seq: 6, deleted: true, text: undefined })))]);
  assertEquals(s.chats[C].chat.unread, 1);
  s = apply(s, [event(ev.new(msg(C, 7))), event(ev.new(msg(C, 8, { sender_kind: "system", kind: "system", system: { action: "joined", user_id: "u_ana" } })))]);
  assertEquals(s.chats[C].chat.unread, 2);
  s = apply(s, [event(ev.read(C, ME, 7))]);
  assertEquals(s.chats[C].chat.read_seq, 7);
  assertEquals(s.chats[C].chat.unread, 0);
  assertEquals(s.chats[C].unreadKnown, true);
  // The same read again, or an older one, changes nothing.
  assert(apply(s, [event(ev.read(C, ME, 7)), event(ev.read(C, ME, 3))]) === s);
});

Deno.test("a read over messages this device does not hold asks the next sync for the count", () => {
  let s = apply(emptyState, [hello, event(ev.added(chat(C, 50, { unread: 10, read_seq: 40 })))]);
  // Read up to the position: nothing is left unread, no need to hold anything.
  const all = apply(s, [event(ev.read(C, ME, 50))]);
  assertEquals([all.chats[C].chat.unread, all.chats[C].unreadKnown, all.sync.needed], [0, true, false]);
  s = apply(s, [event(ev.read(C, ME, 45))]);
  assertEquals(s.chats[C].unreadKnown, false);
  assertEquals(s.sync.needed, true);
  s = apply(s, [{ type: "sync_started" }, page([entry(chat(C, 50, { unread: 5, read_seq: 45 }), [], 50)]), { type: "sync_finished", now: 1 }]);
  assertEquals(s.chats[C].unreadKnown, true);
  assertEquals(s.chats[C].chat.unread, 5);
});

Deno.test("the window keeps the newest messages; loading older pages extends it", () => {
  const config = { ...defaultStateConfig, messageWindow: 3 };
  let s = apply(emptyState, [hello, event(ev.added(chat(C, 0)))], config);
  for (let i = 1; i <= 5; i++) s = apply(s, [event(ev.new(msg(C, i)))], config);
  assertEquals(s.chats[C].messages.map((m) => m.seq), [3, 4, 5]);
  assertEquals(s.chats[C].heldFrom, 3);
  assertEquals(s.chats[C].hasOlder, true);
  // An edit of a message below the window moves the position but holds nothing.
  s = apply(s, [event(ev.edited(msg(C, 1, { updated_seq: 6, text: "x" })))], config);
  assertEquals(s.chats[C].position, 6);
  assertEquals(s.chats[C].messages.map((m) => m.seq), [3, 4, 5]);
  s = apply(s, [{ type: "history", chatId: C, before: 3, result: { messages: [msg(C, 1, { updated_seq: 6, text: "x" }), msg(C, 2)], my_reactions: { "2": ["👏"] }, more: false } }], config);
  assertEquals(s.chats[C].messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assertEquals(s.chats[C].heldFrom, 1);
  assertEquals(s.chats[C].hasOlder, false);
  assertEquals(s.chats[C].myReactions, { 2: ["👏"] });
  s = apply(s, [{ type: "trim", chatId: C }], config);
  assertEquals(s.chats[C].messages.map((m) => m.seq), [3, 4, 5]);
});

Deno.test("typing: others only, expiring; presence replaced; renames and own reactions reach the summary", () => {
  let s = apply(known(), [event(ev.typing(C, ME)), event(ev.typing(C, "u_leo"))]);
  assertEquals(s.chats[C].typing.map((t) => t.user_id), ["u_leo"]);
  s = apply(s, [{ type: "typing_expired", now: 1000 + defaultStateConfig.typingMs }]);
  assertEquals(s.chats[C].typing.length, 0);
  s = apply(s, [
    event({ event: "group.updated", data: { message: msg(C, 4, { kind: "system", sender_kind: "system", system: { action: "renamed", title: "Trail club" } }) } }),
    event(ev.reaction(msg(C, 2, { updated_seq: 5, reactions: { "👏": 1 } }), ME, "👏")),
    event({ event: "presence", data: { presence: { user_id: "u_leo", state: "training", activity: "run" } } }),
  ]);
  assertEquals(s.chats[C].chat.title, "Trail club");
  assertEquals(s.chats[C].myReactions, { 2: ["👏"] });
  assertEquals(s.presence["u_leo"].state, "training");
  assertEquals(apply(s, [event(ev.removed(C))]).chats[C], undefined);
  const revoked = apply(s, [event({ event: "presence.revoked", data: { user_ids: ["u_leo"], reason: "no_shared_chat" } })]);
  assertEquals(revoked.presence["u_leo"], undefined, "a revoked watch forgets the presence");
});
