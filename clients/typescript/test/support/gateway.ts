/**
 * A real `social-gateway` process for one test: a free port, its own data
 * directory, an HS256 secret. `SOCIAL_GATEWAY_BIN` names the binary
 * (scripts/test.sh exports it).
 */
import { mintToken } from "./jwt.ts";

export const SECRET = "sdk-tests-hs256-secret-0123456789abcdef";

export function gatewayBinary(): string {
  const bin = Deno.env.get("SOCIAL_GATEWAY_BIN");
  if (!bin) throw new Error("SOCIAL_GATEWAY_BIN is not set: build the gateway (swift build --product social-gateway) and export it");
  return bin;
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export class Gateway {
  #child?: Deno.ChildProcess;
  #stderr: string[] = [];

  private constructor(readonly port: number, readonly dataDir: string, readonly extraArgs: string[]) {}

  /** Starts a gateway and waits until `/healthz` answers. */
  static async start(extraArgs: string[] = []): Promise<Gateway> {
    const dir = await Deno.makeTempDir({ prefix: "sdk-gw-" });
    const g = new Gateway(freePort(), dir, extraArgs);
    try {
      await g.restart();
    } catch (e) {
      await g.stop();
      throw e;
    }
    return g;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  token(sub: string, did?: string, expiresInSeconds?: number): Promise<string> {
    return mintToken(SECRET, { sub, did, expiresInSeconds });
  }

  /** (Re)starts the process on the same port and data directory. */
  async restart(): Promise<void> {
    const args = [
      "--host", "127.0.0.1",
      "--port", String(this.port),
      "--data-dir", this.dataDir,
      "--jwt-secret", SECRET,
      "--log-level", "warning",
      ...this.extraArgs,
    ];
    this.#child = new Deno.Command(gatewayBinary(), { args, stdout: "null", stderr: "piped", stdin: "null" }).spawn();
    void this.#drain(this.#child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        await r.body?.cancel();
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`gateway did not start:\n${this.#stderr.join("")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the process with SIGKILL (nothing is flushed or drained) and waits for it. */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
    await child.status;
  }

  async stop(): Promise<void> {
    await this.kill("SIGKILL");
    await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }

  get stderr(): string {
    return this.#stderr.join("");
  }

  async #drain(child: Deno.ChildProcess): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      this.#stderr.push(decoder.decode(chunk));
      if (this.#stderr.length > 200) this.#stderr.shift();
    }
  }
}
