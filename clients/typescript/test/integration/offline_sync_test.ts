/**
 * A phone goes to the background (its connection closed) while 5,000 changes
 * happen across 20 chats: sends, edits, deletes and reactions from two other
 * users on four connections, and reads from the phone user's other device.
 * Back in the foreground it syncs, following `more`, and must end with
 * exactly the server's state. Prints how many `sync` calls and how long.
 */
import { Gateway } from "../support/gateway.ts";
import { assertMatchesServer, caughtUp, device, type Device, serverTruth } from "../support/sdk.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { waitFor } from "../support/wait.ts";
import type { Message } from "../../src/protocol/objects.ts";

const CHATS = 20;
const SENDS = 2500, EDITS = 1000, DELETES = 400, REACTIONS = 900, READS = 200;
const EMOJI = ["👏", "🔥", "💪", "🏃", "⚡", "🎉", "👍", "❤️", "😀", "🚴"];

/** A small deterministic generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

Deno.test({
  name: "a phone offline during 5,000 changes in 20 chats comes back with exactly the server's state",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const gw = await Gateway.start();
    const all: Device[] = [];
    try {
      const phone = await device(gw, "u_maya", "maya-phone", { backgroundCloseAfterMs: 0, messageWindow: 100, syncLimit: 1000 });
      const web = await device(gw, "u_maya", "maya-web");
      const writers = [
        await device(gw, "u_leo", "leo-phone"),
        await device(gw, "u_leo", "leo-watch"),
        await device(gw, "u_ana", "ana-phone"),
        await device(gw, "u_ana", "ana-tablet"),
      ];
      all.push(phone, web, ...writers);
      const chats: string[] = [];
      for (let i = 0; i < CHATS; i++) {
        const { group } = await web.client.request("group.create", { title: `Club ${i}`, open: true });
        chats.push(group.chat_id);
      }
      for (const w of [writers[0], writers[2]]) for (const c of chats) await w.client.request("group.join", { group_id: c });
      const before = await serverTruth(gw, "u_maya");
      await waitFor("the phone holds the 20 chats", () => caughtUp(phone.client.getSnapshot(), before));

      // The app goes to the background: the connection closes at once (backgroundCloseAfterMs: 0).
      phone.client.background();
      await waitFor("phone suspended", () => phone.client.getSnapshot().connection.status === "suspended");
      const statsBefore = phone.client.stats;

      const random = rng(42);
      const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
      // Sends: 2,500 over the four writer connections, spread over the chats.
      const sent: Message[][] = writers.map(() => []);
      await Promise.all(writers.map(async (w, wi) => {
        const n = SENDS / writers.length;
        const done = await Promise.all(Array.from({ length: n }, (_, i) => w.client.send(chats[(i * 7 + wi) % CHATS], { text: `${w.user} #${i}` })));
        sent[wi].push(...done);
      }));
      // Edits, deletes (own messages, each deleted one not edited again), reactions (others' messages) and reads, all at once.
      const ops: Promise<unknown>[] = [];
      writers.forEach((w, wi) => {
        const own = sent[wi].slice();
        for (let i = 0; i < EDITS / writers.length; i++) {
          const m = own[i % own.length];
          ops.push(w.client.edit(m.chat_id, m.seq, `${m.text} (edit ${i})`));
        }
        for (let i = 0; i < DELETES / writers.length; i++) {
          const m = own[own.length - 1 - i];
          ops.push(w.client.deleteMessage(m.chat_id, m.seq));
        }
        const others = sent[(wi + 2) % writers.length]; // the other user's messages
        for (let i = 0; i < REACTIONS / writers.length; i++) {
          const m = others[i % (others.length - DELETES / writers.length)];
          ops.push(w.client.react(m.chat_id, m.seq, EMOJI[(Math.floor(i / others.length) * 2 + (wi % 2)) % EMOJI.length]));
        }
      });
      const readsDone = (async () => {
        for (let i = 0; i < READS; i++) {
          const c = pick(chats);
          const seq = Math.max(1, Math.floor((i + 1) / READS * 200));
          await web.client.request("chat.read", { chat_id: c, seq });
        }
      })();
      await Promise.all([...ops, readsDone]);
      for (const w of writers) assertEquals(w.client.getSnapshot().outbox.length, 0, "writers' outboxes drained");

      const truth = await serverTruth(gw, "u_maya");
      const changes = [...truth.chats.values()].reduce((n, c) => n + c.seq, 0) - [...before.chats.values()].reduce((n, c) => n + c.seq, 0);
      assert(changes >= SENDS + EDITS + DELETES + REACTIONS - 10, `only ${changes} seqs taken`); // a reaction may repeat an emoji already there
      console.log(`  ${changes} stored changes + ${READS} reads while the phone was away`);

      // Back to the foreground: reconnect, sync (following `more`), and end equal to the server.
      const t0 = performance.now();
      phone.client.foreground();
      await waitFor("phone caught up", () => caughtUp(phone.client.getSnapshot(), truth), 60_000, 5);
      const ms = performance.now() - t0;
      const stats = phone.client.stats;
      const calls = stats.syncCalls - statsBefore.syncCalls;
      console.log(`  back online: ${calls} sync calls in ${stats.syncs - statsBefore.syncs} sync(s), ${ms.toFixed(0)} ms from foreground() to caught up`);
      const compared = assertMatchesServer(phone, truth);
      assert(compared >= CHATS * 50, `compared only ${compared} messages`);
      for (const v of Object.values(phone.client.getSnapshot().chats)) assert(v.messages.length <= 100, "the window bounds memory");
      assert(calls >= 2, "5,000 changes cannot fit one sync call at limit 1000: `more` was followed");
      assertMatchesServer(web, truth);
    } finally {
      for (const d of all) await d.client.stop();
      await gw.stop();
    }
  },
});
