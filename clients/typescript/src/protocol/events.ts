/**
 * Every server push of protocol v1 (protocol/events.md), as a discriminated
 * union on `event`, with the decoders of their data.
 */
import { array, bool, type Decoder, int, object, str } from "./decode.ts";
import {
  type Chat,
  chat,
  type Invitation,
  invitation,
  type Message,
  message,
  type Notification,
  notification,
  type Presence,
  presence,
} from "./objects.ts";

export interface HelloData {
  version: string;
  session_id: string;
  user_id: string;
  device_id: string;
  max_message_bytes: number;
  ping_interval_ms: number;
  idle_timeout_ms: number;
}
export interface MessageEventData {
  message: Message;
}
export interface ReactionEventData {
  message: Message;
  user_id: string;
  emoji: string;
  added: boolean;
}
export interface TypingData {
  chat_id: string;
  user_id: string;
  device_id: string;
}
export interface ReadData {
  chat_id: string;
  user_id: string;
  seq: number;
}
export interface ChatAddedData {
  chat: Chat;
}
export interface ChatRemovedData {
  chat_id: string;
  /** `left` or `kicked`. */
  reason: string;
}
export interface InvitationData {
  invitation: Invitation;
}
export interface ResyncData {
  reason: string;
}
export interface PresenceData {
  presence: Presence;
}
/** Watches that ended: the users no longer share a chat with this one (or it could not be checked). */
export interface PresenceRevokedData {
  user_ids: string[];
  /** `no_shared_chat` or `unverified`; treat every reason alike. */
  reason: string;
}
export interface NotificationData {
  notification: Notification;
  unread: number;
}
export interface DigestData {
  notifications: Notification[];
  unread: number;
}
export interface BadgeData {
  unread: number;
}

function typed<T>(decoder: Decoder<T>): Decoder<T> {
  return decoder;
}

const messageData = typed<MessageEventData>(object({ message }));

/** Every event of protocol v1 and the decoder of its `data`. */
export const EVENTS = {
  "hello": typed<HelloData>(object({
    version: str,
    session_id: str,
    user_id: str,
    device_id: str,
    max_message_bytes: int,
    ping_interval_ms: int,
    idle_timeout_ms: int,
  })),
  "message.new": messageData,
  "message.edited": messageData,
  "message.deleted": messageData,
  "reaction": typed<ReactionEventData>(object({ message, user_id: str, emoji: str, added: bool })),
  "member": messageData,
  "group.updated": messageData,
  "typing": typed<TypingData>(object({ chat_id: str, user_id: str, device_id: str })),
  "read": typed<ReadData>(object({ chat_id: str, user_id: str, seq: int })),
  "chat.added": typed<ChatAddedData>(object({ chat })),
  "chat.removed": typed<ChatRemovedData>(object({ chat_id: str, reason: str })),
  "invitation": typed<InvitationData>(object({ invitation })),
  "resync": typed<ResyncData>(object({ reason: str })),
  "presence": typed<PresenceData>(object({ presence })),
  "presence.revoked": typed<PresenceRevokedData>(object({ user_ids: array(str), reason: str })),
  "notification": typed<NotificationData>(object({ notification, unread: int })),
  "notifications.digest": typed<DigestData>(object({ notifications: array(notification), unread: int })),
  "notifications.badge": typed<BadgeData>(object({ unread: int })),
} as const;

export type EventName = keyof typeof EVENTS;
type DataOf<E extends EventName> = (typeof EVENTS)[E] extends Decoder<infer D> ? D : never;

/** A decoded server push. */
export type ServerEvent = { [E in EventName]: { event: E; data: DataOf<E> } }[EventName];

/** The events that carry a position (`data.message.updated_seq`). */
export type PositionedEvent = Extract<
  ServerEvent,
  { event: "message.new" | "message.edited" | "message.deleted" | "reaction" | "member" | "group.updated" }
>;

const POSITIONED = new Set<string>(["message.new", "message.edited", "message.deleted", "reaction", "member", "group.updated"]);

export function isPositioned(e: ServerEvent): e is PositionedEvent {
  return POSITIONED.has(e.event);
}

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENTS, name);
}
