/**
 * The platform's WebSocket, and how the token reaches the gateway: in the
 * `Authorization` header where the platform's WebSocket takes headers (React
 * Native: a third `options` argument; Deno: `{ protocols, headers }`), else in
 * the `access_token` query parameter (browsers). The URL with a token in it
 * is never logged.
 */

export const SUBPROTOCOL = "social.v1";

/** The part of the standard WebSocket the SDK uses. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * Opens a WebSocket. `headers` is set only when `supportsHeaders` said the
 * factory can send them.
 */
export interface WebSocketFactory {
  readonly supportsHeaders: boolean;
  open(url: string, protocols: string[], headers?: Record<string, string>): WebSocketLike;
}

type AnyWebSocketCtor = new (url: string, a?: unknown, b?: unknown) => WebSocketLike;

/** The global WebSocket, called the way this platform accepts headers, if it does. */
export function platformWebSocket(): WebSocketFactory {
  const g = globalThis as { WebSocket?: AnyWebSocketCtor; Deno?: unknown; navigator?: { product?: string } };
  const WS = g.WebSocket;
  if (!WS) throw new Error("no global WebSocket: pass `webSocket` in the options");
  if (g.navigator?.product === "ReactNative") {
    return { supportsHeaders: true, open: (url, protocols, headers) => new WS(url, protocols, headers ? { headers } : undefined) };
  }
  if (g.Deno !== undefined) {
    return { supportsHeaders: true, open: (url, protocols, headers) => new WS(url, { protocols, headers }) };
  }
  return { supportsHeaders: false, open: (url, protocols) => new WS(url, protocols) };
}

export interface ConnectTarget {
  url: string;
  headers?: Record<string, string>;
}

/**
 * The URL and headers of one connect. `tokenIn: "query"` is for platforms
 * whose WebSocket cannot send headers (browsers); query strings can end up in
 * proxy logs, so the header is used whenever the platform allows it.
 */
export function connectTarget(
  baseUrl: string,
  token: string,
  deviceId: string | undefined,
  tokenIn: "header" | "query",
): ConnectTarget {
  const url = new URL(baseUrl);
  if (deviceId !== undefined) url.searchParams.set("device_id", deviceId);
  if (tokenIn === "query") {
    url.searchParams.set("access_token", token);
    return { url: url.toString() };
  }
  return { url: url.toString(), headers: { Authorization: `Bearer ${token}` } };
}

/** The URL fit for logs: no query string. */
export function loggableUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Whether a failed handshake was an HTTP 401. The standard WebSocket does not
 * expose the status; React Native (OkHttp: "Expected HTTP 101 response but was
 * '401 Unauthorized'"; iOS: "...response code from server 401") and Deno put it
 * in the error's message, which is what this reads.
 */
export function handshakeStatus(errorEvent: unknown): number | undefined {
  const e = errorEvent as { message?: unknown; error?: { message?: unknown } } | undefined;
  const text = [e?.message, e?.error?.message].filter((x) => typeof x === "string").join(" ");
  const m = /\b(401|403)\b/.exec(text);
  return m ? Number(m[1]) : undefined;
}
