/**
 * The gateway is killed with SIGKILL while sends are in flight, then started
 * again on the same data directory and port. Round 1: the same client object
 * reconnects and resends. Round 2: the app is killed too while the gateway
 * is down; a new client object on the same storage resends what was queued.
 * Every send the app made must be stored exactly once.
 */
import { Gateway } from "../support/gateway.ts";
import { assertMatchesServer, assertStoredOnce, caughtUp, device, serverTruth } from "../support/sdk.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { sleep, waitFor } from "../support/wait.ts";
import { MemoryStorage } from "../../src/storage.ts";

const PER_ROUND = 150;

Deno.test({
  name: "SIGKILL of the gateway with sends in flight, then an app restart: every send stored exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const gw = await Gateway.start();
    const storage = new MemoryStorage();
    const options = { storage, storageKey: "outbox.u_maya", connectTimeoutMs: 3_000 };
    const phone = await device(gw, "u_maya", "maya-phone", options);
    let phone2: typeof phone | undefined;
    try {
      const chats: string[] = [];
      for (let i = 0; i < 8; i++) chats.push((await phone.client.request("group.create", { title: `Crash club ${i}` })).group.chat_id);
      const ids: string[] = [];
      let acked = 0;
      const sendBatch = (round: number) => {
        for (let i = 0; i < PER_ROUND; i++) {
          const id = `r${round}-${i}`;
          ids.push(id);
          phone.client.send(chats[i % chats.length], { text: `round ${round} #${i}`, clientMsgId: id }).then(() => acked++, () => {});
        }
      };

      // Round 1: kill the gateway mid-way, restart it; the same client object carries on.
      sendBatch(1);
      await waitFor("a third of round 1 acknowledged", () => acked >= PER_ROUND / 3, 30_000, 1);
      assert(phone.client.getSnapshot().outbox.length > 0, "sends still in flight when the gateway dies");
      await gw.kill("SIGKILL");
      const inFlightAtKill = phone.client.getSnapshot().outbox.length;
      await sleep(300);
      await gw.restart();
      await waitFor("round 1 drained", () => phone.client.getSnapshot().outbox.length === 0, 60_000);
      assertEquals(acked, PER_ROUND);
      console.log(`  round 1: ${inFlightAtKill} sends unacknowledged at the kill, all acknowledged after the restart`);

      // Round 2: kill the gateway mid-way, then the app, while the gateway is down.
      acked = 0;
      sendBatch(2);
      await waitFor("a third of round 2 acknowledged", () => acked >= PER_ROUND / 3, 30_000, 1);
      await gw.kill("SIGKILL");
      await sleep(200);
      const queued = phone.client.getSnapshot().outbox.length;
      assert(queued > 0, "sends left in the outbox when the app dies");
      await phone.client.stop(); // the app is killed; its outbox is in `storage`
      await gw.restart();
      phone2 = await device(gw, "u_maya", "maya-phone", options);
      assert(phone2.client.getSnapshot().outbox.length > 0 || Object.keys(phone2.client.getSnapshot().pending).length === 0);
      await waitFor("round 2 drained by the new client object", () => phone2!.client.getSnapshot().outbox.length === 0, 60_000);
      console.log(`  round 2: ${queued} sends queued when the app was killed, resent by the restarted app`);

      const truth = await serverTruth(gw, "u_maya");
      const checked = assertStoredOnce(truth, ids);
      assertEquals(checked, 2 * PER_ROUND);
      const stored = [...truth.history.values()].flat().filter((m) => m.client_msg_id).length;
      assertEquals(stored, 2 * PER_ROUND, "nothing stored twice, nothing else stored");
      for (const c of chats) await phone2.client.loadOlder(c, 100);
      await waitFor("the restarted app caught up", () => caughtUp(phone2!.client.getSnapshot(), truth));
      assert(assertMatchesServer(phone2, truth) >= 2 * PER_ROUND, "the restarted app holds the latest messages");
    } finally {
      await phone.client.stop();
      await phone2?.client.stop();
      await gw.stop();
    }
  },
});
