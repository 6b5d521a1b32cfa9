/** Builders of protocol objects for unit tests. */
import type { Chat, Message } from "../../src/protocol/objects.ts";
import type { ServerEvent } from "../../src/protocol/events.ts";

export function msg(chatId: string, seq: number, over: Partial<Message> = {}): Message {
  return {
    chat_id: chatId,
    seq,
    updated_seq: seq,
    sender: "u_leo",
    sender_kind: "user",
    kind: "text",
    text: `message ${seq}`,
    ts: 1_764_000_000_000 + seq,
    deleted: false,
    reactions: {},
    ...over,
  };
}

export function chat(chatId: string, seq: number, over: Partial<Chat> = {}): Chat {
  return { chat_id: chatId, kind: "group", group_id: chatId, title: "Run club", role: "member", seq, read_seq: 0, unread: 0, ...over };
}

export const ev = {
  new: (m: Message): ServerEvent => ({ event: "message.new", data: { message: m } }),
  edited: (m: Message): ServerEvent => ({ event: "message.edited", data: { message: m } }),
  deleted: (m: Message): ServerEvent => ({ event: "message.deleted", data: { message: m } }),
  reaction: (m: Message, user: string, emoji: string, added = true): ServerEvent => ({
    event: "reaction",
    data: { message: m, user_id: user, emoji, added },
  }),
  read: (chatId: string, user: string, seq: number): ServerEvent => ({ event: "read", data: { chat_id: chatId, user_id: user, seq } }),
  added: (c: Chat): ServerEvent => ({ event: "chat.added", data: { chat: c } }),
  removed: (chatId: string): ServerEvent => ({ event: "chat.removed", data: { chat_id: chatId, reason: "kicked" } }),
  typing: (chatId: string, user: string, device = "d1"): ServerEvent => ({
    event: "typing",
    data: { chat_id: chatId, user_id: user, device_id: device },
  }),
  resync: (): ServerEvent => ({ event: "resync", data: { reason: "bus_interrupted" } }),
};
