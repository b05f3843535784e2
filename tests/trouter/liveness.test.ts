// Liveness against the unmodified official browser SDK, and the failure modes kept visible:
// a healthy idle connection survives two minutes (two 40 s pings) over WebSocket and over
// xhr-polling; a server that does not ack, never says trouter.connected, or hands out a socketio
// URL with a path makes the client reconnect or never connect, exactly as the SDK's timers say.
// Each case needs its own server (faults are server-wide), so they run concurrently.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Harness, sleep, type AppPage } from "./harness.js";
import type { TrouterFaults, TrouterTransport } from "@parley/server";
import { member } from "../helpers/sdk.js";

async function withClient(
  setup: { faults?: TrouterFaults; transports?: TrouterTransport[] },
  body: (h: Harness, page: AppPage, user: { id: string; token: string }) => Promise<void>,
): Promise<void> {
  const h = await Harness.start();
  try {
    h.server.parley.app.trouter.configure(setup);
    const user = await h.newUser();
    const page = await h.newPage();
    await page.start("u", user.token);
    await body(h, page, user);
  } finally {
    await h.close();
  }
}

const allocations = (h: Harness) => h.seen.filter((r) => r.method === "POST" && r.path.endsWith("/v4/a"));

describe("official browser SDK liveness and failure modes", { concurrency: true }, () => {
  for (const transport of ["websocket", "xhr-polling"] as const) {
    it(`stays connected for two idle minutes over ${transport} (pings at 40 s and 80 s acked, heartbeats, held polls)`, { timeout: 180_000 }, () =>
      withClient({ transports: [transport] }, async (h, page, user) => {
        await page.waitFor("u", "realTimeNotificationConnected");
        await sleep(125_000);
        assert.deepEqual(await page.events("u", "realTimeNotificationDisconnected"), [], "no reconnect");
        assert.equal(allocations(h).length, 1);
        const stats = h.server.parley.app.trouter.stats(user.id);
        assert.equal(stats[transport === "websocket" ? "websocket" : "polling"], 1);
        const alice = await h.newUser();
        const { chatThread } = await alice.chat.createChatThread({ topic: "still alive" }, { participants: [member(alice), member(user)] });
        await alice.chat.getChatThreadClient(chatThread!.id).sendMessage({ content: "after two minutes" });
        const [received] = await page.waitFor("u", "chatMessageReceived");
        assert.equal(received!.data.message, "after two minutes");
        assert.equal(h.server.parley.app.trouter.counters.rejected, 0);
      }));
  }

  it("without user.activity acks, the client tears down and reconnects every 10 s", { timeout: 90_000 }, () =>
    withClient({ faults: { ignoreUserActivity: true } }, async (h, page) => {
      const [connected] = await page.waitFor("u", "realTimeNotificationConnected");
      const drops = await page.waitFor("u", "realTimeNotificationDisconnected", 2, 30_000);
      const gap = drops[0]!.at - connected!.at;
      assert.ok(gap > 9_000 && gap < 13_000, `first drop ${gap} ms after connecting`);
      assert.ok(allocations(h).length >= 2);
      assert.ok(allocations(h).slice(1).every((r) => r.path === "/v4/a"), "reconnects allocate at {socketio}v4/a");
    }));

  it("without ping acks, the client reconnects 5 s after its 40 s ping", { timeout: 90_000 }, () =>
    withClient({ faults: { ignorePing: true } }, async (_h, page) => {
      const [connected] = await page.waitFor("u", "realTimeNotificationConnected");
      const [drop] = await page.waitFor("u", "realTimeNotificationDisconnected", 1, 60_000);
      const gap = drop!.at - connected!.at;
      assert.ok(gap > 40_000 && gap < 50_000, `dropped ${gap} ms after connecting`);
      await page.waitFor("u", "realTimeNotificationConnected", 2, 10_000);
    }));

  it("without trouter.connected, the client never reports connected and re-allocates after its 20 s timeout", { timeout: 90_000 }, () =>
    withClient({ faults: { withholdConnected: true } }, async (h, page) => {
      await sleep(26_000);
      assert.deepEqual(await page.events("u", "realTimeNotificationConnected"), []);
      const seen = allocations(h);
      assert.ok(seen.length >= 2, `re-allocated (${seen.length})`);
      assert.ok(seen[1]!.at - seen[0]!.at >= 19_000, "after the 20 s connection timeout");
    }));

  it("with a socketio URL that has a path (a socket.io namespace), the client never connects", { timeout: 90_000 }, () =>
    withClient({ faults: { socketioPath: "trouter/" } }, async (h, page) => {
      await sleep(25_000);
      assert.deepEqual(await page.events("u", "realTimeNotificationConnected"), []);
      assert.ok(allocations(h).length >= 2, "it keeps trying");
    }));
});
