/**
 * The app's state as a reducer: `reduce(state, action)` applies one server
 * event, sync page, history page or outbox change, and is idempotent (an
 * event applied twice changes nothing). It follows the protocol README's
 * "Reconnect and sync" guide: positioned events apply only exactly one past
 * the chat's position; a gap, an event for an unknown chat or `resync` marks
 * a sync as needed; chat events that arrive during a sync are buffered and
 * run through the same rule when it ends.
 */
import type { PositionedEvent, ServerEvent } from "../protocol/events.ts";
import { isPositioned } from "../protocol/events.ts";
import type { Chat, Message, MyReactions, Notification, Presence } from "../protocol/objects.ts";
import type { HistoryResult, SyncResult } from "../protocol/ops.ts";
import { trimToWindow, upsertMessage } from "./messages.ts";
import type { ChatView, PendingMessage, SocialState, StateConfig } from "./types.ts";
import { applyOwnRead, unreadDelta } from "./unread.ts";

export type StateAction =
  | { type: "hello"; userId: string; deviceId: string }
  | { type: "event"; event: ServerEvent; now: number }
  /** A sync must run (every new connection asks for one). */
  | { type: "sync_needed" }
  | { type: "sync_started" }
  /** One `sync` reply; several when it said `more`. */
  | { type: "sync_page"; result: SyncResult }
  /** The last page was applied: buffered events run now. */
  | { type: "sync_finished"; now: number }
  /** The sync failed or the connection closed: a sync is needed again; the buffer is kept. */
  | { type: "sync_aborted" }
  | { type: "history"; chatId: string; before?: number; after?: number; result: HistoryResult }
  /** A command's reply carried a message (send, edit, react...): shown, without moving the position. */
  | { type: "message_reply"; message: Message }
  /** The reply to this user's `chat.read`. */
  | { type: "read_reply"; chatId: string; readSeq: number }
  /** A command's reply carried a chat this user is now a member of (group.create, group.join, chat.open_direct). */
  | { type: "chat_reply"; chat: Chat }
  | { type: "presence"; presence: readonly Presence[] }
  | { type: "notifications_badge"; unread: number }
  | { type: "notifications_page"; notifications: readonly Notification[]; unread: number }
  | { type: "pending_add"; message: PendingMessage }
  | { type: "pending_update"; chatId: string; clientMsgId: string; patch: Partial<PendingMessage> }
  | { type: "pending_remove"; chatId: string; clientMsgId: string }
  | { type: "typing_expired"; now: number }
  /** Back to the default window (drops older pages loaded with `loadOlder`). */
  | { type: "trim"; chatId: string };

export function reduce(state: SocialState, action: StateAction, config: StateConfig): SocialState {
  switch (action.type) {
    case "hello":
      if (state.userId === action.userId && state.deviceId === action.deviceId) return state;
      return { ...state, userId: action.userId, deviceId: action.deviceId };
    case "event":
      return onEvent(state, action.event, action.now, config);
    case "sync_needed":
      return needSync(state);
    case "sync_started":
      return { ...state, sync: { ...state.sync, inFlight: true, needed: false } };
    case "sync_page":
      return applySyncPage(state, action.result, config);
    case "sync_finished":
      return finishSync(state, action.now, config);
    case "sync_aborted":
      return { ...state, sync: { ...state.sync, inFlight: false, needed: true } };
    case "history":
      return applyHistory(state, action, config);
    case "message_reply":
      return onMessageReply(state, action.message);
    case "read_reply":
      return ownRead(state, action.chatId, action.readSeq);
    case "chat_reply":
      return addChat(state, action.chat, config);
    case "presence":
      return applyPresence(state, action.presence);
    case "notifications_badge":
      return setBadge(state, action.unread);
    case "notifications_page":
      return addNotifications(setBadge(state, action.unread), action.notifications, config);
    case "pending_add": {
      const p = action.message;
      const list = state.pending[p.chat_id] ?? [];
      const stored = state.chats[p.chat_id]?.messages.some((m) => m.client_msg_id === p.client_msg_id && m.sender === state.userId);
      if (stored || list.some((x) => x.client_msg_id === p.client_msg_id)) return state;
      return { ...state, pending: { ...state.pending, [p.chat_id]: [...list, p] } };
    }
    case "pending_update": {
      const list = state.pending[action.chatId] ?? [];
      const i = list.findIndex((p) => p.client_msg_id === action.clientMsgId);
      if (i < 0) return state;
      const next = list.slice();
      next[i] = { ...next[i], ...action.patch };
      return { ...state, pending: { ...state.pending, [action.chatId]: next } };
    }
    case "pending_remove":
      return dropEcho(state, action.chatId, action.clientMsgId);
    case "typing_expired":
      return expireTyping(state, action.now);
    case "trim":
      return updateChat(state, action.chatId, (v) =>
        v.window === config.messageWindow ? v : trimToWindow({ ...v, window: config.messageWindow }));
  }
}

// ---- events ----

/** Events about chats wait while a sync is in flight; the others apply at once. */
function isChatEvent(e: ServerEvent): boolean {
  return isPositioned(e) || e.event === "read" || e.event === "chat.added" || e.event === "chat.removed";
}

function onEvent(state: SocialState, e: ServerEvent, now: number, config: StateConfig): SocialState {
  if (state.sync.inFlight && isChatEvent(e)) {
    return { ...state, sync: { ...state.sync, buffered: [...state.sync.buffered, e] } };
  }
  return applyEvent(state, e, now, config);
}

function applyEvent(state: SocialState, e: ServerEvent, now: number, config: StateConfig): SocialState {
  if (isPositioned(e)) return applyPositioned(state, e, now);
  switch (e.event) {
    case "hello":
      return reduce(state, { type: "hello", userId: e.data.user_id, deviceId: e.data.device_id }, config);
    case "read": {
      const view = state.chats[e.data.chat_id];
      if (!view) return needSync(state);
      if (e.data.user_id === state.userId) return ownRead(state, e.data.chat_id, e.data.seq);
      if ((view.readers[e.data.user_id] ?? -1) >= e.data.seq) return state;
      return updateChat(state, e.data.chat_id, (v) => ({ ...v, readers: { ...v.readers, [e.data.user_id]: e.data.seq } }));
    }
    case "typing": {
      const view = state.chats[e.data.chat_id];
      if (!view || e.data.user_id === state.userId) return state;
      const { user_id, device_id } = e.data;
      const typing = view.typing.filter((t) => !(t.user_id === user_id && t.device_id === device_id));
      typing.push({ user_id, device_id, until: now + config.typingMs });
      return updateChat(state, e.data.chat_id, (v) => ({ ...v, typing }));
    }
    case "chat.added":
      return addChat(state, e.data.chat, config);
    case "chat.removed":
      return removeChats(state, [e.data.chat_id]);
    case "invitation": {
      const others = state.invitations.filter((i) => i.group_id !== e.data.invitation.group_id);
      return { ...state, invitations: [...others, e.data.invitation] };
    }
    case "resync":
      return needSync(state);
    case "presence":
      return applyPresence(state, [e.data.presence]);
    case "presence.revoked":
      return forgetPresence(state, e.data.user_ids);
    case "notification":
      return addNotifications(setBadge(state, e.data.unread), [e.data.notification], config);
    case "notifications.digest":
      return addNotifications(setBadge(state, e.data.unread), e.data.notifications, config);
    case "notifications.badge":
      return setBadge(state, e.data.unread);
  }
  return state;
}

/** This user's read marker moved; when the count cannot be kept locally, the next sync asks for it. */
function ownRead(state: SocialState, chatId: string, readSeq: number): SocialState {
  const next = updateChat(state, chatId, (v) => applyOwnRead(v, readSeq, state.userId));
  return next.chats[chatId]?.unreadKnown === false ? needSync(next) : next;
}

function applyPositioned(state: SocialState, e: PositionedEvent, now: number): SocialState {
  const m = e.data.message;
  const view = state.chats[m.chat_id];
  if (!view) return needSync(state);
  if (m.updated_seq <= view.position) return state; // already applied
  if (m.updated_seq > view.position + 1) return needSync(state); // a gap: sync returns it and what was missed
  const me = state.userId;
  let next = upsertMessage(view, m);
  const unread = view.chat.unread + unreadDelta(view, m, view.position, me);
  const chat = summaryWith({ ...next.chat, unread }, m, me);
  next = { ...next, chat, position: m.updated_seq };
  if (e.event === "reaction" && e.data.user_id === me) {
    const mine = next.myReactions[m.seq] ?? [];
    const emoji = e.data.emoji;
    const updated = e.data.added ? (mine.includes(emoji) ? mine : [...mine, emoji]) : mine.filter((x) => x !== emoji);
    next = { ...next, myReactions: { ...next.myReactions, [m.seq]: updated } };
  }
  if (e.event === "message.new" && next.typing.some((t) => t.user_id === m.sender)) {
    next = { ...next, typing: next.typing.filter((t) => t.user_id !== m.sender || t.until <= now) };
  }
  return dropEchoes({ ...state, chats: { ...state.chats, [m.chat_id]: next } }, [m]);
}

/** The chat summary once `m` (a change newer than the summary) is applied: seq, last message, and what a system message changes. */
function summaryWith(chat: Chat, m: Message, me: string | undefined): Chat {
  let next: Chat = { ...chat, seq: Math.max(chat.seq, m.updated_seq) };
  const last = next.last_message;
  if (!last || m.seq > last.seq || (m.seq === last.seq && m.updated_seq >= last.updated_seq)) next = { ...next, last_message: m };
  return applySystem(next, m, me);
}

/** What a system message changes in the chat summary: title, owner, this user's role. */
function applySystem(chat: Chat, m: Message, me: string | undefined): Chat {
  const s = m.system;
  if (!s) return chat;
  switch (s.action) {
    case "renamed":
      return s.title !== undefined ? { ...chat, title: s.title } : chat;
    case "role_changed":
      return s.user_id === me && s.role ? { ...chat, role: s.role } : chat;
    case "transferred":
      if (s.user_id === me) return { ...chat, owner: s.user_id, role: "owner" };
      if (s.by === me) return { ...chat, owner: s.user_id, role: "admin" };
      return s.user_id ? { ...chat, owner: s.user_id } : chat;
  }
  return chat;
}

// ---- sync ----

function applySyncPage(state: SocialState, result: SyncResult, config: StateConfig): SocialState {
  let next = removeChats(state, result.removed);
  const chats = { ...next.chats };
  for (const entry of result.chats) {
    const id = entry.chat.chat_id;
    const old = chats[id];
    if (!old || entry.new) {
      chats[id] = newView(entry.chat, config);
      continue;
    }
    let view = old;
    let chat = entry.chat;
    const asOf: ChatView = { ...old, chat: entry.chat, summarySeq: entry.chat.seq };
    for (const m of entry.changes) {
      view = upsertMessage(view, m);
      // Changes that raced in after the summary was read are not in it (the
      // gateway reads the summary first): count them, and apply them to it as
      // a live event would, so that the summary is as of `position`.
      chat = { ...chat, unread: chat.unread + unreadDelta(asOf, m, old.position, state.userId) };
      if (m.updated_seq > entry.chat.seq) chat = summaryWith(chat, m, state.userId);
    }
    view = {
      ...view,
      chat,
      summarySeq: entry.chat.seq,
      unreadKnown: true,
      position: Math.max(entry.position, old.position),
      myReactions: mergeMyReactions(view.myReactions, entry.changes, entry.my_reactions),
    };
    chats[id] = view;
  }
  next = { ...next, chats };
  for (const entry of result.chats) next = dropEchoes(next, entry.changes);
  if (result.notifications) {
    const n = result.notifications;
    next = addNotifications(setBadge(next, n.unread), n.changes, config);
    next = { ...next, notifications: { ...next.notifications, position: Math.max(next.notifications.position, n.position) } };
  }
  return next;
}

function finishSync(state: SocialState, now: number, config: StateConfig): SocialState {
  const buffered = state.sync.buffered;
  let next: SocialState = {
    ...state,
    sync: { ...state.sync, inFlight: false, buffered: [], completed: state.sync.completed + 1 },
  };
  for (const e of buffered) next = applyEvent(next, e, now, config);
  return next;
}

function needSync(state: SocialState): SocialState {
  return state.sync.needed ? state : { ...state, sync: { ...state.sync, needed: true } };
}

// ---- history and replies ----

function applyHistory(
  state: SocialState,
  action: { chatId: string; before?: number; after?: number; result: HistoryResult },
  config: StateConfig,
): SocialState {
  const view = state.chats[action.chatId];
  if (!view) return state;
  const { messages, more } = action.result;
  let next = view;
  // A page reaching down to `low` with nothing missing between it and what is held lowers heldFrom.
  if (action.after === undefined && (action.before === undefined || action.before >= view.heldFrom)) {
    const low = more ? (messages[0]?.seq ?? view.heldFrom) : 1;
    if (low < view.heldFrom) {
      const loaded = messages.filter((m) => m.seq < view.heldFrom).length;
      next = {
        ...next,
        heldFrom: low,
        hasOlder: more,
        window: Math.max(next.window, next.messages.length + loaded, config.messageWindow),
      };
    }
  }
  for (const m of messages) next = upsertMessage(next, m);
  next = { ...next, myReactions: mergeMyReactions(next.myReactions, messages, action.result.my_reactions) };
  return dropEchoes(next === view ? state : { ...state, chats: { ...state.chats, [action.chatId]: next } }, messages);
}

function onMessageReply(state: SocialState, m: Message): SocialState {
  // Only this user's own messages: another member's message changed by this user (a delete by an
  // admin) waits for its event, so that the unread count stays exact.
  if (m.sender !== state.userId) return state;
  return dropEchoes(updateChat(state, m.chat_id, (v) => upsertMessage(v, m)), [m]);
}

// ---- chats ----

function newView(chat: Chat, config: StateConfig): ChatView {
  return {
    chat,
    position: chat.seq,
    messages: [],
    heldFrom: chat.seq + 1,
    hasOlder: chat.seq > 0,
    window: config.messageWindow,
    myReactions: {},
    readers: {},
    typing: [],
    summarySeq: chat.seq,
    unreadKnown: true,
  };
}

function addChat(state: SocialState, chat: Chat, config: StateConfig): SocialState {
  const invitations = chat.group_id !== undefined && state.invitations.some((i) => i.group_id === chat.group_id)
    ? state.invitations.filter((i) => i.group_id !== chat.group_id)
    : state.invitations;
  if (state.chats[chat.chat_id]) return invitations === state.invitations ? state : { ...state, invitations };
  return { ...state, invitations, chats: { ...state.chats, [chat.chat_id]: newView(chat, config) } };
}

function removeChats(state: SocialState, ids: readonly string[]): SocialState {
  if (!ids.some((id) => state.chats[id])) return state;
  const chats = { ...state.chats };
  for (const id of ids) delete chats[id];
  return { ...state, chats };
}

/** Applies `f` to one chat; a chat the state does not know is left alone. */
function updateChat(state: SocialState, chatId: string, f: (v: ChatView) => ChatView): SocialState {
  const view = state.chats[chatId];
  if (!view) return state;
  const next = f(view);
  return next === view ? state : { ...state, chats: { ...state.chats, [chatId]: next } };
}

/** Removes the local echo of a message of this device. */
function dropEcho(state: SocialState, chatId: string, clientMsgId: string): SocialState {
  const list = state.pending[chatId];
  if (!list || !list.some((p) => p.client_msg_id === clientMsgId)) return state;
  const rest = list.filter((p) => p.client_msg_id !== clientMsgId);
  const pending = { ...state.pending };
  if (rest.length > 0) pending[chatId] = rest;
  else delete pending[chatId];
  return { ...state, pending };
}

/** A stored message of this user replaces its local echo: never both. */
function dropEchoes(state: SocialState, messages: readonly Message[]): SocialState {
  let next = state;
  for (const m of messages) {
    if (m.client_msg_id !== undefined && m.sender === state.userId) next = dropEcho(next, m.chat_id, m.client_msg_id);
  }
  return next;
}

function mergeMyReactions(
  current: Readonly<Record<number, readonly string[]>>,
  messages: readonly Message[],
  mine: MyReactions,
): Readonly<Record<number, readonly string[]>> {
  if (messages.length === 0) return current;
  const out: Record<number, readonly string[]> = { ...current };
  for (const m of messages) {
    const r = mine[String(m.seq)];
    if (r && r.length > 0) out[m.seq] = r;
    else delete out[m.seq];
  }
  return out;
}

// ---- presence, typing, notifications ----

function applyPresence(state: SocialState, list: readonly Presence[]): SocialState {
  if (list.length === 0) return state;
  return { ...state, presence: { ...state.presence, ...Object.fromEntries(list.map((p) => [p.user_id, p])) } };
}

/** Watches ended by the server: what was shown for those users goes. */
function forgetPresence(state: SocialState, userIds: readonly string[]): SocialState {
  if (!userIds.some((u) => u in state.presence)) return state;
  const presence = { ...state.presence };
  for (const u of userIds) delete presence[u];
  return { ...state, presence };
}

function expireTyping(state: SocialState, now: number): SocialState {
  let chats: Record<string, ChatView> | undefined;
  for (const [id, view] of Object.entries(state.chats)) {
    if (!view.typing.some((t) => t.until <= now)) continue;
    chats ??= { ...state.chats };
    chats[id] = { ...view, typing: view.typing.filter((t) => t.until > now) };
  }
  return chats ? { ...state, chats } : state;
}

function setBadge(state: SocialState, unread: number): SocialState {
  return state.notifications.unread === unread ? state : { ...state, notifications: { ...state.notifications, unread } };
}

function addNotifications(state: SocialState, list: readonly Notification[], config: StateConfig): SocialState {
  if (list.length === 0) return state;
  const byId = new Map(state.notifications.items.map((n) => [n.id, n]));
  for (const n of list) byId.set(n.id, n);
  const items = [...byId.values()].sort((a, b) => b.id - a.id).slice(0, config.notificationWindow);
  return { ...state, notifications: { ...state.notifications, items } };
}
