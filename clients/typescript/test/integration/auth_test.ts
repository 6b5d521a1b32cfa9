/**
 * Tokens against a real gateway: a refused handshake (HTTP 401) and a session
 * closed for an expired token (1008) each get one immediate retry with a
 * fresh token; the query-string transport works too; no token reaches the logs.
 */
import { Gateway, SECRET } from "../support/gateway.ts";
import { mintToken } from "../support/jwt.ts";
import { SocialClient } from "../../src/client/client.ts";
import type { TokenRequest } from "../../src/client/options.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { waitFor } from "../support/wait.ts";

function client(gw: Gateway, provider: (r: TokenRequest) => Promise<string>, logs: string[], extra = {}) {
  return new SocialClient({
    url: gw.url,
    deviceId: "maya-phone",
    token: provider,
    backoff: { initialDelayMs: 2_000, maxDelayMs: 2_000 }, // slow backoff: the fresh token must come without it
    logger: { log: (level, message, fields) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`) },
    ...extra,
  });
}

Deno.test({
  name: "a 401 handshake and a 1008 close each fetch a fresh token at once; tokens never reach the logs",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const gw = await Gateway.start(["--jwt-leeway", "0"]);
    const logs: string[] = [];
    const requests: boolean[] = [];
    const tokens: string[] = [];
    let c: SocialClient | undefined;
    try {
      // The first token expired long ago: 401. The next ones live 3 s: the session is closed with 1008.
      c = client(gw, async (r) => {
        requests.push(r.forceRefresh);
        const t = requests.length === 1
          ? await mintToken(SECRET, { sub: "u_maya", exp: Math.floor(Date.now() / 1000) - 600 })
          : await mintToken(SECRET, { sub: "u_maya", expiresInSeconds: requests.length === 2 ? 3 : 3600 });
        tokens.push(t);
        return t;
      }, logs);
      const t0 = Date.now();
      await c.start();
      await waitFor("live after the 401", () => c!.getSnapshot().connection.status === "live", 10_000);
      assertEquals(requests, [false, true], "a fresh token after the 401");
      assert(Date.now() - t0 < 1_500, "no backoff before the fresh token");
      const { group } = await c.request("group.create", { title: "Token club" });
      // The token expires: the gateway closes with 1008; the client fetches a fresh one at once and carries on.
      await waitFor("closed with 1008", () => c!.getSnapshot().connection.lastClose?.code === 1008, 10_000);
      await waitFor("live again", () => c!.getSnapshot().connection.status === "live", 5_000);
      assertEquals(requests, [false, true, true]);
      await c.send(group.chat_id, { text: "still here" });
      for (const t of tokens) assert(!logs.some((l) => l.includes(t)), "a token reached the logs");
      assert(logs.some((l) => l.includes("connecting")), "the client logged (so the check above means something)");
      await c.stop();

      // A browser-like platform: the token in the query string.
      const qlogs: string[] = [];
      const token = await mintToken(SECRET, { sub: "u_maya" });
      c = client(gw, () => Promise.resolve(token), qlogs, { tokenIn: "query" });
      await c.start();
      await waitFor("live with the query-string token", () => c!.getSnapshot().connection.status === "live", 5_000);
      assertEquals(Object.keys(c.getSnapshot().chats), [group.chat_id]);
      assert(qlogs.length > 0 && !qlogs.some((l) => l.includes(token) || l.includes("access_token=ey")), "the URL with its token was logged");
    } finally {
      await c?.stop();
      await gw.stop();
    }
  },
});
