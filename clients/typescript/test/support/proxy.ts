/**
 * A TCP proxy between clients and the gateway that misbehaves on demand:
 * - `delay`: every chunk waits 50–250 ms (order kept);
 * - `fin()`: closes every connection cleanly (FIN both ways);
 * - `rst()`: resets every connection. Deno has no SO_LINGER, so the proxy
 *   stops reading, waits until the kernel holds unread bytes from the peer
 *   (read from /proc/net/tcp's rx_queue), then closes: Linux answers a close
 *   with unread data by sending RST instead of FIN (RFC 2525, 2.17). When no
 *   byte arrives within 3 s it closes anyway (counted as `rstFallbacks`);
 * - `hold()`: forwards nothing, on existing and new connections, without
 *   closing anything: only heartbeats and idle timeouts can notice;
 *   `heal()` forwards again.
 */
import { sleep } from "./wait.ts";

interface Pair {
  client: Deno.TcpConn;
  server: Deno.TcpConn;
  closed: boolean;
}

export class ChaosProxy {
  readonly #listener: Deno.TcpListener;
  readonly #pairs = new Set<Pair>();
  #delay = false;
  #held = false;
  #release: (() => void)[] = [];
  readonly stats = { accepted: 0, fin: 0, rst: 0, rstFallbacks: 0, held: 0 };

  private constructor(readonly targetPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    void this.#accept();
  }

  static start(targetPort: number): ChaosProxy {
    return new ChaosProxy(targetPort);
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  delay(on: boolean): void {
    this.#delay = on;
  }

  hold(): void {
    this.#held = true;
    this.stats.held += this.#pairs.size;
  }

  heal(): void {
    this.#held = false;
    this.#delay = false;
    const waiting = this.#release;
    this.#release = [];
    for (const r of waiting) r();
  }

  /** FIN both ways on every connection. */
  async fin(): Promise<void> {
    for (const p of [...this.#pairs]) {
      this.#close(p, "fin");
      this.stats.fin++;
    }
    await sleep(10);
  }

  /** RST on every connection (both sides), as described above. */
  async rst(): Promise<void> {
    const pairs = [...this.#pairs];
    this.#held = true; // stop reading, so that the peers' next bytes stay unread
    const deadline = Date.now() + 3_000;
    const waiting = new Set(pairs);
    while (waiting.size > 0 && Date.now() < deadline) {
      const table = await readTcpTable();
      for (const p of [...waiting]) {
        if (p.closed) {
          waiting.delete(p);
          continue;
        }
        const c = unread(table, p.client), s = unread(table, p.server);
        if (c > 0 && s > 0) {
          this.#close(p, "rst");
          this.stats.rst++;
          waiting.delete(p);
        }
      }
      await sleep(20);
    }
    for (const p of waiting) {
      this.#close(p, "rst");
      this.stats.rstFallbacks++;
    }
    this.#held = false;
    const waiters = this.#release;
    this.#release = [];
    for (const r of waiters) r();
  }

  async close(): Promise<void> {
    this.heal();
    this.#listener.close();
    for (const p of [...this.#pairs]) this.#close(p, "fin");
    await sleep(10);
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      this.stats.accepted++;
      let server: Deno.TcpConn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: this.targetPort });
      } catch {
        client.close();
        continue;
      }
      const pair: Pair = { client, server, closed: false };
      this.#pairs.add(pair);
      void this.#pipe(pair, client, server);
      void this.#pipe(pair, server, client);
    }
  }

  async #pipe(pair: Pair, from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let sendAt = 0;
    let chain = Promise.resolve();
    try {
      for (;;) {
        while (this.#held && !pair.closed) await new Promise<void>((r) => this.#release.push(r));
        if (pair.closed) return;
        const n = await from.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        if (this.#delay) {
          // Each chunk 50–250 ms late, never before the one ahead of it.
          sendAt = Math.max(sendAt, Date.now() + 50 + Math.random() * 200);
          const at = sendAt;
          chain = chain.then(async () => {
            await sleep(Math.max(0, at - Date.now()));
            if (!pair.closed) await writeAll(to, chunk);
          });
        } else {
          await chain;
          await writeAll(to, chunk);
        }
      }
      await chain;
      // The peer closed cleanly: pass the FIN on.
      await to.closeWrite().catch(() => {});
    } catch {
      this.#close(pair, "fin");
    }
  }

  #close(pair: Pair, _how: "fin" | "rst"): void {
    if (pair.closed) return;
    pair.closed = true;
    this.#pairs.delete(pair);
    for (const c of [pair.client, pair.server]) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    const waiters = this.#release;
    this.#release = [];
    for (const r of waiters) r();
  }
}

async function writeAll(to: Deno.TcpConn, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) off += await to.write(chunk.subarray(off));
}

/** `local:remote` (hex, as in /proc/net/tcp) → rx_queue. */
async function readTcpTable(): Promise<Map<string, number>> {
  const text = await Deno.readTextFile("/proc/net/tcp");
  const table = new Map<string, number>();
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const rx = parseInt(f[4].split(":")[1], 16);
    table.set(`${f[1]}-${f[2]}`, rx);
  }
  return table;
}

function hexAddr(addr: Deno.NetAddr): string {
  const ip = addr.hostname.split(".").map(Number).reverse().map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  return `${ip}:${addr.port.toString(16).padStart(4, "0").toUpperCase()}`;
}

function unread(table: Map<string, number>, conn: Deno.TcpConn): number {
  return table.get(`${hexAddr(conn.localAddr as Deno.NetAddr)}-${hexAddr(conn.remoteAddr as Deno.NetAddr)}`) ?? 0;
}
