/**
 * Errors of commands: the gateway's error replies (protocol/errors.md) and the
 * few the SDK makes itself when no reply can come.
 */

/** The gateway's error codes (an open set: handle unknown ones by `temporary`). */
export const ServerErrorCode = {
  badRequest: "bad_request",
  unknownOp: "unknown_op",
  invalidArgs: "invalid_args",
  forbidden: "forbidden",
  notFound: "not_found",
  conflict: "conflict",
  tooLarge: "too_large",
  rateLimited: "rate_limited",
  overloaded: "overloaded",
  unavailable: "unavailable",
  timeout: "timeout",
  shuttingDown: "shutting_down",
  internal: "internal",
} as const;

/** Codes the SDK uses when no reply arrives; never sent by the gateway. */
export const ClientErrorCode = {
  /** The connection closed before the reply arrived; the command may or may not have run. */
  disconnected: "disconnected",
  /** No reply within `commandTimeoutMs`; the command may or may not have run. */
  requestTimeout: "request_timeout",
  /** `stop()` was called. */
  stopped: "stopped",
  /** The reply did not have the shape the protocol gives it. */
  badReply: "bad_reply",
} as const;

/** The body of an error reply, as on the wire. */
export interface ErrorBody {
  code: string;
  message: string;
  temporary: boolean;
  retry_after_ms?: number;
}

/** A command failed. Branch on `code`; retry only when `temporary`. */
export class SocialError extends Error {
  readonly code: string;
  readonly temporary: boolean;
  /** With `rate_limited` (and a proxied service's open breaker): wait at least this long. */
  readonly retryAfterMs?: number;

  constructor(code: string, message: string, temporary: boolean, retryAfterMs?: number) {
    super(message);
    this.name = "SocialError";
    this.code = code;
    this.temporary = temporary;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }

  static fromBody(body: ErrorBody): SocialError {
    return new SocialError(body.code, body.message, body.temporary, body.retry_after_ms);
  }

  static disconnected(): SocialError {
    return new SocialError(ClientErrorCode.disconnected, "the connection closed before the reply", true);
  }

  static requestTimeout(ms: number): SocialError {
    return new SocialError(ClientErrorCode.requestTimeout, `no reply within ${ms} ms`, true);
  }

  static stopped(): SocialError {
    return new SocialError(ClientErrorCode.stopped, "the client was stopped", false);
  }

  static badReply(detail: string): SocialError {
    return new SocialError(ClientErrorCode.badReply, `malformed reply: ${detail}`, false);
  }
}
