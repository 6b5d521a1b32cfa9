/** Logging that never carries a token. */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { log: () => {} };

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Logs to the console from `level` up. */
export function consoleLogger(level: LogLevel = "info"): Logger {
  return {
    log(l, message, fields) {
      if (ORDER[l] < ORDER[level]) return;
      const line = fields ? `[social] ${message} ${JSON.stringify(fields)}` : `[social] ${message}`;
      (l === "error" ? console.error : l === "warn" ? console.warn : console.log)(line);
    },
  };
}

/**
 * Wraps the app's logger: every message and field is scrubbed of the tokens
 * the SDK has handled and of anything that looks like a bearer token or an
 * `access_token` parameter, before the app's logger sees it.
 */
export class RedactingLogger implements Logger {
  readonly #inner: Logger;
  readonly #secrets = new Set<string>();

  constructor(inner: Logger) {
    this.#inner = inner;
  }

  /** A value that must never be logged (each token the provider returns). */
  addSecret(secret: string): void {
    if (secret.length >= 8) this.#secrets.add(secret);
    if (this.#secrets.size > 16) this.#secrets.delete(this.#secrets.values().next().value!);
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    const clean = fields ? (JSON.parse(this.#scrub(JSON.stringify(fields))) as Record<string, unknown>) : undefined;
    this.#inner.log(level, this.#scrub(message), clean);
  }

  #scrub(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join("[redacted]");
    return out
      .replace(/(access_token=)[^&\s"]+/g, "$1[redacted]")
      .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, "$1[redacted]");
  }
}
