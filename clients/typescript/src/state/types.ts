/**
 * The state the app renders from. Every object is immutable: a change makes
 * new objects along its path and keeps the rest, so a snapshot's identity
 * changes exactly when something in it changed (what React's
 * `useSyncExternalStore` and memoized selectors need).
 */
import type { Chat, Invitation, Message, Notification, Presence } from "../protocol/objects.ts";
import type { ServerEvent } from "../protocol/events.ts";
import type { Attachment } from "../protocol/objects.ts";
import type { JsonValue } from "../protocol/decode.ts";

/** A message of this device waiting in the outbox: shown at once, replaced by the stored one. */
export interface PendingMessage {
  readonly chat_id: string;
  readonly client_msg_id: string;
  readonly text?: string;
  readonly kind?: string;
  readonly reply_to?: number;
  readonly attachments?: Attachment[];
  readonly data?: JsonValue;
  /** When it was queued, ms since 1970 (the device's clock). */
  readonly queued_at: number;
  /** `sending` while it waits or is retried; `failed` when the gateway refused it for good. */
  readonly status: "sending" | "failed";
  readonly error?: { code: string; message: string };
}

export interface TypingEntry {
  readonly user_id: string;
  readonly device_id: string;
  /** Until when to show it, ms (the device's clock). */
  readonly until: number;
}

export interface ChatView {
  /** The summary: title, role, `seq`, `read_seq` (this user's read marker), `unread`, `last_message`. */
  readonly chat: Chat;
  /** The highest `updated_seq` applied (protocol README, "Chats, sequences and positions"). */
  readonly position: number;
  /** Stored messages, ascending by `seq`: every message with `seq >= heldFrom` up to `position`, at most the window. */
  readonly messages: readonly Message[];
  /** The lowest seq from which this device holds every message; 1 when it holds the whole chat. */
  readonly heldFrom: number;
  /** Older messages exist on the server (`loadOlder`). */
  readonly hasOlder: boolean;
  /** How many messages this chat keeps (grows with `loadOlder`, back to the default with `trimMessages`). */
  readonly window: number;
  /** This user's own reactions, by message seq. */
  readonly myReactions: Readonly<Record<number, readonly string[]>>;
  /** Other members' read markers seen since the app started (`read` events), for read receipts. */
  readonly readers: Readonly<Record<string, number>>;
  /** Who is typing now (never this user). */
  readonly typing: readonly TypingEntry[];
  /** The `chat.seq` at which `chat.unread` was last taken from the gateway. */
  readonly summarySeq: number;
  /** False when `unread` could not be kept exact locally: the next sync asks the gateway. */
  readonly unreadKnown: boolean;
}

export interface NotificationsView {
  /** The newest notifications seen, newest first (bounded). */
  readonly items: readonly Notification[];
  /** The badge: unread, unexpired notifications. */
  readonly unread: number;
  /** The highest id received through `sync`: the next `notifications_after`. */
  readonly position: number;
}

export interface SyncView {
  readonly inFlight: boolean;
  /** A sync must run (a gap, an unknown chat, `resync`, a read marker to learn). */
  readonly needed: boolean;
  /** Chat events received during the sync, applied when it ends. */
  readonly buffered: readonly ServerEvent[];
  /** Syncs completed since the client started (each may take several `sync` calls). */
  readonly completed: number;
}

export interface SocialState {
  /** From `hello`. */
  readonly userId?: string;
  readonly deviceId?: string;
  readonly chats: Readonly<Record<string, ChatView>>;
  /** This device's messages waiting in the outbox, by chat, oldest first (the local echo). */
  readonly pending: Readonly<Record<string, readonly PendingMessage[]>>;
  readonly presence: Readonly<Record<string, Presence>>;
  readonly invitations: readonly Invitation[];
  readonly notifications: NotificationsView;
  readonly sync: SyncView;
}

export interface StateConfig {
  /** Messages kept per chat. Default 200. */
  messageWindow: number;
  /** Notifications kept. Default 100. */
  notificationWindow: number;
  /** How long a typing indicator shows. Default 5 s. */
  typingMs: number;
}

export const defaultStateConfig: StateConfig = { messageWindow: 200, notificationWindow: 100, typingMs: 5_000 };

export const emptyState: SocialState = {
  chats: {},
  pending: {},
  presence: {},
  invitations: [],
  notifications: { items: [], unread: 0, position: 0 },
  sync: { inFlight: false, needed: false, buffered: [], completed: 0 },
};
