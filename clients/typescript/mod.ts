/**
 * The social gateway's TypeScript client: one WebSocket kept open and in
 * sync, an outbox for message changes, and the state an app renders from.
 * See README.md.
 */
export { SocialClient } from "./src/client/client.ts";
export type { ClientSnapshot, ClientStats, ConnectionInfo, MessageTarget, SendContent } from "./src/client/client.ts";
export type { SocialClientOptions, TokenRequest } from "./src/client/options.ts";
export { ClientErrorCode, type ErrorBody, ServerErrorCode, SocialError } from "./src/errors.ts";
export { type KeyValueStorage, MemoryStorage } from "./src/storage.ts";
export { consoleLogger, type Logger, type LogLevel, silentLogger } from "./src/log.ts";
export { platformWebSocket, type WebSocketFactory, type WebSocketLike } from "./src/connection/transport.ts";
export type { ConnectionStatus } from "./src/connection/machine.ts";
export type { OutboxEntry } from "./src/outbox/outbox.ts";
export { selectChatList, selectTimeline, selectTotalUnread, type TimelineItem } from "./src/selectors.ts";
export type { ChatView, NotificationsView, PendingMessage, SocialState, TypingEntry } from "./src/state/types.ts";
export type * from "./src/protocol/objects.ts";
export type * from "./src/protocol/ops.ts";
export type * from "./src/protocol/events.ts";
export type { JsonValue } from "./src/protocol/decode.ts";
