/**
 * Every op of protocol v1 (protocol/ops.md): its args, its result, and the
 * decoders of both. `OpMap` ties each op name to them, so that
 * `client.request(op, args)` is typed end to end.
 */
import { array, bool, type Decoder, int, json, type JsonValue, literal, object, opt, record, str } from "./decode.ts";
import {
  type Attachment,
  attachment,
  type Chat,
  chat,
  type Invitation,
  invitation,
  type Member,
  member,
  type Message,
  message,
  type MyReactions,
  myReactions,
  type Notification,
  notification,
  type Presence,
  presence,
  type Role,
} from "./objects.ts";

// ---- args ----

export interface GroupCreateArgs {
  title: string;
  open?: boolean;
}
export interface GroupRef {
  group_id: string;
}
export interface GroupUserArgs {
  group_id: string;
  user_id: string;
}
export interface GroupSetRoleArgs {
  group_id: string;
  user_id: string;
  role: Exclude<Role, "owner">;
}
export interface GroupRenameArgs {
  group_id: string;
  title: string;
}
export interface OpenDirectArgs {
  user_id: string;
}
export interface SendArgs {
  chat_id: string;
  text?: string;
  kind?: string;
  client_msg_id?: string;
  reply_to?: number;
  attachments?: Attachment[];
  data?: JsonValue;
}
export interface EditArgs {
  chat_id: string;
  seq: number;
  text: string;
  data?: JsonValue;
}
export interface ChatSeqArgs {
  chat_id: string;
  seq: number;
}
export interface ReactArgs {
  chat_id: string;
  seq: number;
  emoji: string;
  remove?: boolean;
}
export interface HistoryArgs {
  chat_id: string;
  before?: number;
  after?: number;
  limit?: number;
}
export interface TypingArgs {
  chat_id: string;
}
export interface SyncChatPosition {
  chat_id: string;
  seq: number;
  read_seq?: number;
}
export interface SyncArgs {
  chats: SyncChatPosition[];
  limit?: number;
  notifications_after?: number;
}
export interface PresenceSetArgs {
  state: "online" | "away" | "training";
  activity?: string;
}
export interface PresenceUsersArgs {
  user_ids: string[];
}
export interface ProxyRequestArgs {
  service: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: JsonValue;
}
export interface NotificationsListArgs {
  before?: number;
  unread_only?: boolean;
  limit?: number;
}
export interface NotificationsAckArgs {
  status: "read" | "dismissed";
  up_to?: number;
  ids?: number[];
}

// ---- results ----

export interface PingResult {
  server_time: number;
}
export interface GroupResult {
  group: Chat;
}
export interface MessageResult {
  message: Message;
}
export interface GroupInfoResult {
  group: Chat;
  members: Member[];
}
export interface GroupsListResult {
  groups: Chat[];
  invitations: Invitation[];
}
export interface OpenDirectResult {
  chat: Chat;
  created: boolean;
}
export interface ChatsListResult {
  chats: Chat[];
}
export interface SendResult {
  message: Message;
  duplicate: boolean;
}
export interface ReactResult {
  message: Message;
  changed: boolean;
}
export interface HistoryResult {
  messages: Message[];
  my_reactions: MyReactions;
  more: boolean;
}
export interface ReadResult {
  chat_id: string;
  read_seq: number;
  unread: number;
}
export interface TypingResult {
  throttled: boolean;
}
export interface SyncChatEntry {
  chat: Chat;
  changes: Message[];
  my_reactions: MyReactions;
  position: number;
  more: boolean;
  new: boolean;
}
export interface SyncNotifications {
  changes: Notification[];
  position: number;
  more: boolean;
  unread: number;
}
export interface SyncResult {
  chats: SyncChatEntry[];
  removed: string[];
  more: boolean;
  notifications?: SyncNotifications;
}
export interface PresenceSelfResult {
  presence: Presence;
}
export interface PresenceListResult {
  presence: Presence[];
  denied: string[];
}
// deno-lint-ignore ban-types
export type EmptyResult = {};
export interface ProxyResult {
  status: number;
  headers: Record<string, string>;
  body?: JsonValue;
  text?: string;
  request_id: string;
}
export interface NotificationsListResult {
  notifications: Notification[];
  more: boolean;
  unread: number;
}
export interface NotificationsAckResult {
  changed: number;
  unread: number;
}

// ---- decoders ----

/** Checks at compile time that a decoder produces the named type. */
function typed<T>(decoder: Decoder<T>): Decoder<T> {
  return decoder;
}

/** Ops without args: `args` may be absent or `{}` (protocol README, "Frames and the envelope"). */
// deno-lint-ignore ban-types
export type NoArgs = {} | undefined;
const none: Decoder<NoArgs> = (v, p) => (v === undefined || v === null ? undefined : object({})(v, p));
const groupRef: Decoder<GroupRef> = object({ group_id: str });
const groupUser: Decoder<GroupUserArgs> = object({ group_id: str, user_id: str });
const chatSeq: Decoder<ChatSeqArgs> = object({ chat_id: str, seq: int });
const presenceUsers: Decoder<PresenceUsersArgs> = object({ user_ids: array(str) });
const messageResult: Decoder<MessageResult> = object({ message });
const groupResult: Decoder<GroupResult> = object({ group: chat });
const presenceList: Decoder<PresenceListResult> = object({ presence: array(presence), denied: array(str) });

/** One op: the decoder of its args (`undefined` for ops without args) and of its result. */
export interface OpSpec<A, R> {
  args: Decoder<A>;
  result: Decoder<R>;
}

function op<A, R>(args: Decoder<A>, result: Decoder<R>): OpSpec<A, R> {
  return { args, result };
}

/** Every op of protocol v1. */
export const OPS = {
  "ping": op(none, typed<PingResult>(object({ server_time: int }))),
  "group.create": op(typed<GroupCreateArgs>(object({ title: str, open: opt(bool) })), groupResult),
  "group.invite": op(groupUser, messageResult),
  "group.join": op(groupRef, groupResult),
  "group.leave": op(groupRef, messageResult),
  "group.kick": op(groupUser, messageResult),
  "group.set_role": op(
    typed<GroupSetRoleArgs>(object({ group_id: str, user_id: str, role: literal("admin", "member") })),
    messageResult,
  ),
  "group.transfer": op(groupUser, messageResult),
  "group.rename": op(typed<GroupRenameArgs>(object({ group_id: str, title: str })), messageResult),
  "group.info": op(groupRef, typed<GroupInfoResult>(object({ group: chat, members: array(member) }))),
  "groups.list": op(none, typed<GroupsListResult>(object({ groups: array(chat), invitations: array(invitation) }))),
  "chat.open_direct": op(typed<OpenDirectArgs>(object({ user_id: str })), typed<OpenDirectResult>(object({ chat, created: bool }))),
  "chats.list": op(none, typed<ChatsListResult>(object({ chats: array(chat) }))),
  "chat.send": op(
    typed<SendArgs>(object({
      chat_id: str,
      text: opt(str),
      kind: opt(str),
      client_msg_id: opt(str),
      reply_to: opt(int),
      attachments: opt(array(attachment)),
      data: opt(json),
    })),
    typed<SendResult>(object({ message, duplicate: bool })),
  ),
  "chat.edit": op(typed<EditArgs>(object({ chat_id: str, seq: int, text: str, data: opt(json) })), messageResult),
  "chat.delete": op(chatSeq, messageResult),
  "chat.react": op(
    typed<ReactArgs>(object({ chat_id: str, seq: int, emoji: str, remove: opt(bool) })),
    typed<ReactResult>(object({ message, changed: bool })),
  ),
  "chat.history": op(
    typed<HistoryArgs>(object({ chat_id: str, before: opt(int), after: opt(int), limit: opt(int) })),
    typed<HistoryResult>(object({ messages: array(message), my_reactions: myReactions, more: bool })),
  ),
  "chat.read": op(chatSeq, typed<ReadResult>(object({ chat_id: str, read_seq: int, unread: int }))),
  "chat.typing": op(typed<TypingArgs>(object({ chat_id: str })), typed<TypingResult>(object({ throttled: bool }))),
  "sync": op(
    typed<SyncArgs>(object({
      chats: array(object({ chat_id: str, seq: int, read_seq: opt(int) })),
      limit: opt(int),
      notifications_after: opt(int),
    })),
    typed<SyncResult>(object({
      chats: array(object({
        chat,
        changes: array(message),
        my_reactions: myReactions,
        position: int,
        more: bool,
        new: bool,
      })),
      removed: array(str),
      more: bool,
      notifications: opt(object({ changes: array(notification), position: int, more: bool, unread: int })),
    })),
  ),
  "presence.set": op(
    typed<PresenceSetArgs>(object({ state: literal("online", "away", "training"), activity: opt(str) })),
    typed<PresenceSelfResult>(object({ presence })),
  ),
  "presence.subscribe": op(presenceUsers, presenceList),
  "presence.unsubscribe": op(presenceUsers, typed<EmptyResult>(object({}))),
  "presence.query": op(presenceUsers, presenceList),
  "proxy.request": op(
    typed<ProxyRequestArgs>(object({
      service: str,
      method: literal("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
      path: str,
      body: opt(json),
    })),
    typed<ProxyResult>(object({ status: int, headers: record(str), body: opt(json), text: opt(str), request_id: str })),
  ),
  "notifications.list": op(
    typed<NotificationsListArgs>(object({ before: opt(int), unread_only: opt(bool), limit: opt(int) })),
    typed<NotificationsListResult>(object({ notifications: array(notification), more: bool, unread: int })),
  ),
  "notifications.ack": op(
    typed<NotificationsAckArgs>(object({ status: literal("read", "dismissed"), up_to: opt(int), ids: opt(array(int)) })),
    typed<NotificationsAckResult>(object({ changed: int, unread: int })),
  ),
} as const;

export type Op = keyof typeof OPS;
export type ArgsOf<O extends Op> = (typeof OPS)[O] extends OpSpec<infer A, unknown> ? A : never;
export type ResultOf<O extends Op> = (typeof OPS)[O] extends OpSpec<unknown, infer R> ? R : never;
/** Ops that take no args. */
export type NoArgsOp = { [O in Op]: undefined extends ArgsOf<O> ? O : never }[Op];

export function isOp(name: string): name is Op {
  return Object.hasOwn(OPS, name);
}

// Re-exported for callers that only import ops.
export type { Attachment, Chat, Invitation, Member, Message, MyReactions, Notification, Presence };
