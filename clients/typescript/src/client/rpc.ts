/** Commands waiting for their reply, matched by `id` (replies may come in any order). */
import { SocialError } from "../errors.ts";
import type { Timers } from "../timers.ts";

interface Waiting {
  op: string;
  resolve(ok: unknown): void;
  reject(error: SocialError): void;
  timer: unknown;
}

export class PendingCommands {
  readonly #waiting = new Map<number, Waiting>();
  readonly #timers: Timers;
  /** Ids from 1 up; they fit a JavaScript number (below 2^53) for a very long time. */
  #next = 1;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** Registers a command; its reply or `failAll` settles the promise, or the timeout does. */
  add(op: string, timeoutMs: number): { id: number; reply: Promise<unknown> } {
    const id = this.#next++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        if (this.#waiting.delete(id)) reject(SocialError.requestTimeout(timeoutMs));
      }, timeoutMs);
      this.#waiting.set(id, { op, resolve, reject, timer });
    });
    return { id, reply };
  }

  /** The op of a waiting command (to decode its result), or undefined for a late or unknown id. */
  opOf(id: number): string | undefined {
    return this.#waiting.get(id)?.op;
  }

  resolve(id: number, ok: unknown): boolean {
    const w = this.#take(id);
    w?.resolve(ok);
    return w !== undefined;
  }

  reject(id: number, error: SocialError): boolean {
    const w = this.#take(id);
    w?.reject(error);
    return w !== undefined;
  }

  /** The connection is gone: no reply will come for any of them. */
  failAll(error: SocialError): void {
    const all = [...this.#waiting.values()];
    for (const w of all) this.#timers.clearTimeout(w.timer);
    this.#waiting.clear();
    for (const w of all) w.reject(error);
  }

  #take(id: number): Waiting | undefined {
    const w = this.#waiting.get(id);
    if (!w) return undefined;
    this.#waiting.delete(id);
    this.#timers.clearTimeout(w.timer);
    return w;
  }
}
