/**
 * Clients behind a misbehaving TCP proxy (support/proxy.ts): bytes delayed,
 * connections closed with FIN, reset with RST, and held silent (only the
 * SDK's heartbeat and the gateway's idle timeout can notice), while every
 * client keeps sending, editing and reacting. After the network heals, each
 * client's state equals the server's and every send is stored once.
 */
import { Gateway } from "../support/gateway.ts";
import { ChaosProxy } from "../support/proxy.ts";
import { assertMatchesServer, assertStoredOnce, caughtUp, describe, device, type Device, serverTruth, waitLive } from "../support/sdk.ts";
import { assert } from "../support/assert.ts";
import { sleep, waitFor } from "../support/wait.ts";

Deno.test({
  name: "delays, FIN, RST and silent connections through a proxy: clients end equal to the server, sends stored once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // The gateway pings every second and drops a connection silent for 4 s.
    const gw = await Gateway.start(["--ping-interval", "1", "--idle-timeout", "4"]);
    const proxy = ChaosProxy.start(gw.port);
    const viaProxy = {
      heartbeatIntervalMs: 1_000,
      heartbeatTimeoutMs: 1_500,
      connectTimeoutMs: 3_000,
      commandTimeoutMs: 5_000,
      stableAfterMs: 60_000,
    };
    const all: Device[] = [];
    let stop = false;
    try {
      const maya = await device(gw, "u_maya", "maya-phone", viaProxy, proxy.url);
      const leo = await device(gw, "u_leo", "leo-phone", viaProxy, proxy.url);
      const ana = await device(gw, "u_ana", "ana-web"); // well connected, straight to the gateway
      all.push(maya, leo, ana);
      const chats: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { group } = await ana.client.request("group.create", { title: `Chaos ${i}`, open: true });
        chats.push(group.chat_id);
        await maya.client.request("group.join", { group_id: group.chat_id });
        await leo.client.request("group.join", { group_id: group.chat_id });
      }

      // Everyone keeps changing things while the network misbehaves.
      const ids: string[] = [];
      const failures: string[] = [];
      for (const d of all) d.client.onOutboxFailure((e, err) => failures.push(`${d.user} ${e.command.op}: ${err.code} ${err.message}`));
      const traffic = all.map(async (d, di) => {
        let i = 0;
        while (!stop) {
          const chatOf = (n: number) => chats[n % chats.length];
          const id = (n: number) => `${d.user}-${n}`;
          ids.push(id(i));
          d.client.send(chatOf(i), { text: `${d.user} #${i}`, clientMsgId: id(i) }).catch(() => {});
          // Changes that refer to messages of this device by client_msg_id, stored or not yet.
          if (i % 5 === 4) d.client.edit(chatOf(i), { clientMsgId: id(i) }, `${d.user} #${i} (edited)`).catch(() => {});
          if (i % 7 === 6) d.client.react(chatOf(i - 1), { clientMsgId: id(i - 1) }, ["👏", "🔥", "💪"][di]).catch(() => {});
          if (i % 11 === 10) d.client.deleteMessage(chatOf(i - 3), { clientMsgId: id(i - 3) }).catch(() => {});
          if (i % 13 === 12) d.client.markRead(chatOf(i)).catch(() => {});
          i++;
          await sleep(40);
        }
      });

      const connectsBefore = maya.client.stats.connects + leo.client.stats.connects;
      const phase = async (what: string, f: () => void | Promise<void>, ms: number) => {
        await f();
        console.log(`  ${what}`);
        await sleep(ms);
      };
      await phase("bytes delayed 50-250 ms", () => proxy.delay(true), 2_000);
      await phase("FIN on every connection", () => proxy.fin(), 1_500);
      await phase("RST on every connection", () => proxy.rst(), 1_500);
      await phase("connections held silent", () => proxy.hold(), 6_000);
      await phase("healed, then delayed again", () => {
        proxy.heal();
        proxy.delay(true);
      }, 2_000);
      proxy.heal();
      stop = true;
      await Promise.all(traffic);

      for (const d of [maya, leo]) await waitLive(d).catch((e) => Promise.reject(new Error(`${e.message}\n${state()}`)));
      const state = () => all.map(describe).join("\n");
      await waitFor("outboxes drained", () => all.every((d) => d.client.getSnapshot().outbox.length === 0), 30_000, 20, state);
      assert(failures.length === 0, `outbox failures: ${failures.join("; ")}`);
      const reconnects = maya.client.stats.connects + leo.client.stats.connects - connectsBefore;
      console.log(
        `  proxy: ${proxy.stats.accepted} connections, ${proxy.stats.fin} FIN, ${proxy.stats.rst} RST ` +
          `(${proxy.stats.rstFallbacks} closed without unread data), ${proxy.stats.held} held; ${reconnects} reconnects; ${ids.length} sends`,
      );
      assert(proxy.stats.fin > 0 && proxy.stats.rst > 0 && proxy.stats.held > 0, "every fault happened");
      assert(reconnects >= 6, `the proxied clients reconnected ${reconnects} times`);

      for (const d of all) {
        const truth = await serverTruth(gw, d.user);
        await waitFor(`${d.user} caught up`, () => caughtUp(d.client.getSnapshot(), truth), 30_000, 20, state);
        assert(assertMatchesServer(d, truth) > 0);
        if (d === ana) assertStoredOnce(truth, ids);
      }
    } finally {
      stop = true;
      for (const d of all) await d.client.stop();
      await proxy.close();
      await gw.stop();
    }
  },
});
