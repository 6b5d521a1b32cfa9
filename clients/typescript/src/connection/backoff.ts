/** Reconnect delays: exponential backoff with full jitter. */

export interface BackoffConfig {
  /** The ceiling of the first delay. Default 500 ms. */
  initialDelayMs: number;
  /** The largest ceiling. Default 30 s. */
  maxDelayMs: number;
}

export const defaultBackoff: BackoffConfig = { initialDelayMs: 500, maxDelayMs: 30_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first after a good
 * connection): uniformly random in [0, min(max, initial * 2^attempt)], so that
 * clients dropped together by one event spread their reconnects out.
 * @param random a number in [0, 1), `Math.random` in production.
 */
export function fullJitter(attempt: number, config: BackoffConfig, random: number): number {
  const ceiling = Math.min(config.maxDelayMs, config.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random * ceiling);
}
