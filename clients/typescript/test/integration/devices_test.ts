/**
 * Two devices of one user and a second user against a real gateway: every
 * event reaches every device, and read markers and unread counts agree
 * across devices and with the server.
 */
import { Gateway } from "../support/gateway.ts";
import { assertMatchesServer, caughtUp, device, serverTruth } from "../support/sdk.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { waitFor } from "../support/wait.ts";
import { isPositioned } from "../../src/protocol/events.ts";

Deno.test({
  name: "two devices of one user and a second user see every event; read markers and unread agree",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const gw = await Gateway.start();
    const devices = [];
    try {
      const phone = await device(gw, "u_maya", "maya-phone");
      const tablet = await device(gw, "u_maya", "maya-tablet");
      const leo = await device(gw, "u_leo", "leo-phone");
      devices.push(phone, tablet, leo);

      const { group } = await phone.client.request("group.create", { title: "Riverside Run Club", open: true });
      await leo.client.request("group.join", { group_id: group.chat_id });
      await leo.client.watchPresence(["u_maya"]);
      const { chat: dm } = await tablet.client.request("chat.open_direct", { user_id: "u_leo" });
      const G = group.chat_id, D = dm.chat_id;

      // Messages from every device, edits, a delete, reactions, a rename, typing.
      const fromPhone = await Promise.all([1, 2, 3].map((i) => phone.client.send(G, { text: `phone ${i}` })));
      const fromLeo = await Promise.all([1, 2, 3, 4].map((i) => leo.client.send(G, { text: `leo ${i}` })));
      await Promise.all([leo.client.send(D, { text: "dm from leo" }), tablet.client.send(D, { text: "dm from tablet" })]);
      await leo.client.edit(G, fromLeo[0].seq, "leo 1 (edited)");
      await phone.client.deleteMessage(G, fromPhone[2].seq);
      await leo.client.react(G, fromPhone[0].seq, "👏");
      await tablet.client.react(G, fromLeo[1].seq, "🔥");
      await tablet.client.request("group.rename", { group_id: G, title: "Riverside Run Club 🏃" });
      leo.client.typing(G);
      await phone.client.setPresence("training", "run");

      // The tablet reads the group; the phone must agree without doing anything.
      let truth = await serverTruth(gw, "u_maya");
      await waitFor("maya's devices caught up", () => caughtUp(phone.client.getSnapshot(), truth) && caughtUp(tablet.client.getSnapshot(), truth));
      await tablet.client.markRead(G);
      await leo.client.send(G, { text: "after the read" });
      await leo.client.markRead(D);

      truth = await serverTruth(gw, "u_maya");
      const leoTruth = await serverTruth(gw, "u_leo");
      await waitFor("everyone caught up", () =>
        caughtUp(phone.client.getSnapshot(), truth) && caughtUp(tablet.client.getSnapshot(), truth) &&
        caughtUp(leo.client.getSnapshot(), leoTruth));

      let compared = 0;
      for (const d of [phone, tablet]) compared += assertMatchesServer(d, truth);
      compared += assertMatchesServer(leo, leoTruth);
      assert(compared >= 20, `compared ${compared} messages`);
      assertEquals(truth.chats.get(G)!.unread, 1, "one unread after the read");
      assertEquals(phone.client.getSnapshot().chats[G].chat.read_seq, tablet.client.getSnapshot().chats[G].chat.read_seq);
      assertEquals(phone.client.getSnapshot().chats[G].chat.unread, 1);
      assertEquals(phone.client.getSnapshot().chats[G].chat.title, "Riverside Run Club 🏃");

      // Every change of every chat reached every device as an event (not only through sync).
      for (const d of [phone, tablet, leo]) {
        for (const [id, c] of (d === leo ? leoTruth : truth).chats) {
          const seen = new Set(d.events.filter(isPositioned).filter((e) => e.data.message.chat_id === id).map((e) => e.data.message.updated_seq));
          const joined = id === G && d === leo ? 2 : id === G ? 1 : 0; // the seq the device's membership began at
          for (let s = joined + 1; s <= c.seq; s++) assert(seen.has(s), `${d.user}/${d === tablet ? "tablet" : "phone"}: no event for ${id} seq ${s}`);
        }
      }
      // Leo's read marker in the direct chat reached both of Maya's devices, and Maya's in the group reached Leo.
      const leoRead = leoTruth.chats.get(D)!.read_seq;
      assert(leoRead > 0);
      for (const d of [phone, tablet]) {
        await waitFor("leo's read marker", () => d.client.getSnapshot().chats[D].readers["u_leo"] === leoRead);
      }
      assertEquals(leo.client.getSnapshot().chats[G].readers["u_maya"], truth.chats.get(G)!.read_seq);
      // Typing reached Maya's devices (not Leo's own), presence reached Leo.
      for (const d of [phone, tablet]) assert(d.events.some((e) => e.event === "typing" && e.data.user_id === "u_leo"), "typing");
      await waitFor("maya training, seen by leo", () => leo.client.getSnapshot().presence["u_maya"]?.state === "training");
      // No gap or resync was needed: one sync per connection.
      for (const d of devices) assertEquals(d.client.stats.syncs, 1, `${d.user}: syncs`);
    } finally {
      for (const d of devices) await d.client.stop();
      await gw.stop();
    }
  },
});
