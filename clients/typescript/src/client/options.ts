/** What the app configures. Everything but `url` and `token` has a default. */
import type { BackoffConfig } from "../connection/backoff.ts";
import type { WebSocketFactory } from "../connection/transport.ts";
import type { Logger } from "../log.ts";
import type { KeyValueStorage } from "../storage.ts";
import type { Timers } from "../timers.ts";

export interface TokenRequest {
  /** True after the gateway refused the last token (HTTP 401 or close 1008): do not return a cached one. */
  readonly forceRefresh: boolean;
}

export interface SocialClientOptions {
  /** The gateway's WebSocket endpoint, for example `wss://chat.fit.example/ws`. */
  url: string;
  /** Called before every connect. Return the access token (a JWT). */
  token: (request: TokenRequest) => Promise<string> | string;
  /** A stable id of this device (sent as `device_id` unless the token carries `did`). */
  deviceId?: string;
  /** `auto` (default): the `Authorization` header where the platform allows it, else the query string. */
  tokenIn?: "auto" | "header" | "query";
  /** The WebSocket to use. Default: the platform's global one. */
  webSocket?: WebSocketFactory;
  /** Where the outbox is kept across restarts (AsyncStorage-shaped). Default: memory. */
  storage?: KeyValueStorage;
  /** The storage key of the outbox. Default `social.outbox`; use one per signed-in user. */
  storageKey?: string;
  /** Messages kept per chat (older ones: `loadOlder`). Default 200. */
  messageWindow?: number;
  /** Notifications kept. Default 100. */
  notificationWindow?: number;
  /** Changes asked per `sync` call (the gateway caps it at 1000). Default 500. */
  syncLimit?: number;
  /** A command without a reply after this long fails with `request_timeout`. Default 20 s. */
  commandTimeoutMs?: number;
  /** After this long without any frame from the gateway, send a `ping`. Default 20 s. */
  heartbeatIntervalMs?: number;
  /** After a ping, this long without any frame means the connection is dead. Default 10 s. */
  heartbeatTimeoutMs?: number;
  backoff?: Partial<BackoffConfig>;
  /** A connection that stayed up this long resets the backoff. Default 10 s. */
  stableAfterMs?: number;
  /** A connect that takes longer is abandoned. Default 15 s. */
  connectTimeoutMs?: number;
  /** Close the connection this long after `background()`; `null` (default): stay connected. */
  backgroundCloseAfterMs?: number | null;
  /** Outbox commands in flight at once, over all chats. Default 16. */
  outboxMaxInFlight?: number;
  logger?: Logger;
  /** For tests. */
  timers?: Timers;
  /** For tests: a number in [0, 1). */
  random?: () => number;
}
