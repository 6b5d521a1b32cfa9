/**
 * Derived views for rendering, memoized on the immutable state: the same
 * input objects give the same output object, so React re-renders only when
 * the view changed.
 */
import type { Message } from "./protocol/objects.ts";
import type { ChatView, PendingMessage, SocialState } from "./state/types.ts";

/** One row of a chat's timeline: a stored message, or this device's message still in the outbox. */
export type TimelineItem =
  | { readonly type: "message"; readonly message: Message; readonly key: string }
  | { readonly type: "pending"; readonly pending: PendingMessage; readonly key: string };

const timelines = new WeakMap<ChatView, WeakMap<readonly PendingMessage[], TimelineItem[]>>();
const noPending: readonly PendingMessage[] = [];

/** A chat's held messages, oldest first, followed by its pending messages (the local echo). */
export function selectTimeline(state: SocialState, chatId: string): readonly TimelineItem[] {
  const view = state.chats[chatId];
  const pending = state.pending[chatId] ?? noPending;
  if (!view) return pending.map((p) => ({ type: "pending" as const, pending: p, key: `p:${p.client_msg_id}` }));
  let byPending = timelines.get(view);
  if (!byPending) timelines.set(view, byPending = new WeakMap());
  let items = byPending.get(pending);
  if (!items) {
    items = [
      ...view.messages.map((m) => ({ type: "message" as const, message: m, key: `m:${m.seq}` })),
      ...pending.map((p) => ({ type: "pending" as const, pending: p, key: `p:${p.client_msg_id}` })),
    ];
    byPending.set(pending, items);
  }
  return items;
}

const chatLists = new WeakMap<SocialState["chats"], ChatView[]>();

/** Chats, most recent activity first (the last message's time, else the chat's seq). */
export function selectChatList(state: SocialState): readonly ChatView[] {
  let list = chatLists.get(state.chats);
  if (!list) {
    list = Object.values(state.chats).sort((a, b) =>
      (b.chat.last_message?.ts ?? 0) - (a.chat.last_message?.ts ?? 0) || a.chat.chat_id.localeCompare(b.chat.chat_id)
    );
    chatLists.set(state.chats, list);
  }
  return list;
}

/** The sum of unread counts over all chats. */
export function selectTotalUnread(state: SocialState): number {
  let n = 0;
  for (const v of Object.values(state.chats)) n += v.chat.unread;
  return n;
}
