/**
 * The objects that ops and events share (protocol/objects.md), as TypeScript
 * types with the decoders that check them at run time.
 */
import { array, bool, type Decoder, int, json, type JsonValue, literal, object, opt, record, str } from "./decode.ts";

export type Role = "owner" | "admin" | "member";
/** A chat summary's role: a member's role, or in `group.info` for a non-member `invited` / `none`. */
export type ViewerRole = Role | "invited" | "none";
export type PresenceState = "online" | "away" | "training" | "offline";
export type NotificationStatus = "unread" | "read" | "dismissed";

export interface Attachment {
  url: string;
  mime?: string;
  name?: string;
  size?: number;
  meta?: JsonValue;
}

/** What a `system` message records. `action` is an open set (`created`, `joined`, `renamed`...). */
export interface SystemEvent {
  action: string;
  user_id?: string;
  by?: string;
  role?: Role;
  title?: string;
}

/** A message in its current state. Its position in the chat is `updated_seq`. */
export interface Message {
  chat_id: string;
  seq: number;
  updated_seq: number;
  sender: string;
  /** `user`, `bot` or `system` (an open set). */
  sender_kind: string;
  /** `text`, `workout`, `system` or another client-defined kind (an open set). */
  kind: string;
  text?: string;
  client_msg_id?: string;
  reply_to?: number;
  attachments?: Attachment[];
  data?: JsonValue;
  system?: SystemEvent;
  ts: number;
  edited_ts?: number;
  deleted: boolean;
  /** Emoji to the number of users who reacted with it. */
  reactions: Record<string, number>;
}

/** A chat as the caller sees it in their chat list. */
export interface Chat {
  chat_id: string;
  group_id?: string;
  kind: "group" | "direct";
  title?: string;
  open?: boolean;
  owner?: string;
  members?: string[];
  role: ViewerRole;
  seq: number;
  read_seq: number;
  unread: number;
  last_message?: Message;
}

export interface Member {
  user_id: string;
  role: Role;
  read_seq: number;
  joined_ts: number;
}

export interface Invitation {
  group_id: string;
  title?: string;
  invited_by: string;
  ts: number;
}

export interface Presence {
  user_id: string;
  state: PresenceState;
  activity?: string;
  last_seen?: number;
}

export interface Notification {
  id: number;
  /** Chosen by the backend (`kudos`, `challenge_invite`...): an open set. */
  type: string;
  title: string;
  body: string;
  data?: JsonValue;
  priority: "normal" | "high";
  status: NotificationStatus;
  created_at: number;
  expires_at?: number;
}

/** The caller's own reactions, by message seq written as a decimal string. */
export type MyReactions = Record<string, string[]>;

export const role: Decoder<Role> = literal("owner", "admin", "member");

export const attachment: Decoder<Attachment> = object({
  url: str,
  mime: opt(str),
  name: opt(str),
  size: opt(int),
  meta: opt(json),
});

export const systemEvent: Decoder<SystemEvent> = object({
  action: str,
  user_id: opt(str),
  by: opt(str),
  role: opt(role),
  title: opt(str),
});

export const message: Decoder<Message> = object({
  chat_id: str,
  seq: int,
  updated_seq: int,
  sender: str,
  sender_kind: str,
  kind: str,
  text: opt(str),
  client_msg_id: opt(str),
  reply_to: opt(int),
  attachments: opt(array(attachment)),
  data: opt(json),
  system: opt(systemEvent),
  ts: int,
  edited_ts: opt(int),
  deleted: bool,
  reactions: record(int),
});

export const chat: Decoder<Chat> = object({
  chat_id: str,
  group_id: opt(str),
  kind: literal("group", "direct"),
  title: opt(str),
  open: opt(bool),
  owner: opt(str),
  members: opt(array(str)),
  role: literal("owner", "admin", "member", "invited", "none"),
  seq: int,
  read_seq: int,
  unread: int,
  last_message: opt(message),
});

export const member: Decoder<Member> = object({
  user_id: str,
  role,
  read_seq: int,
  joined_ts: int,
});

export const invitation: Decoder<Invitation> = object({
  group_id: str,
  title: opt(str),
  invited_by: str,
  ts: int,
});

export const presence: Decoder<Presence> = object({
  user_id: str,
  state: literal("online", "away", "training", "offline"),
  activity: opt(str),
  last_seen: opt(int),
});

export const notification: Decoder<Notification> = object({
  id: int,
  type: str,
  title: str,
  body: str,
  data: opt(json),
  priority: literal("normal", "high"),
  status: literal("unread", "read", "dismissed"),
  created_at: int,
  expires_at: opt(int),
});

export const myReactions: Decoder<MyReactions> = record(array(str));
