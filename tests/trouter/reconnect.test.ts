// Keeping the official browser SDK alive: the server drops sockets and the client comes back on
// its own (re-allocating at `{socketio}v4/a`, re-registering the same registration id); events
// produced while a client is between sockets are flushed after its next `trouter.connected`;
// sockets close at token expiry and revocation, and a credential with a tokenRefresher recovers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { loadOrCreateSecrets, TokenService } from "@parley/server";
import { Harness, sleep } from "./harness.js";
import { member } from "../helpers/sdk.js";

/** A real Parley token for `userId` that expires in `seconds` (tokens are issued for ≥ 60 min, so the clock is shifted). */
async function shortLivedToken(h: Harness, userId: string, seconds: number): Promise<string> {
  const secrets = loadOrCreateSecrets(h.server.dataDir);
  const tokens = new TokenService(secrets.tokenSecret, { resourceId: secrets.resourceId, clock: () => Date.now() - 60 * 60_000 + seconds * 1000 });
  return (await tokens.issue({ userId, scopes: ["chat"], epoch: 0, expiresInMinutes: 60 })).token;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("official browser SDK: reconnects, gaps and tokens", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(async () => h?.close());

  it("reconnects at once after the server drops the socket, re-registers the same endpoint, and events flow again", async () => {
    const [alice, bob] = [await h.newUser(), await h.newUser()];
    const page = await h.newPage();
    await page.start("bob", bob.token);
    await page.waitFor("bob", "realTimeNotificationConnected");
    const trouter = h.server.parley.app.trouter;
    await until("registration", () => trouter.stats(bob.id).registered === 1);
    const registrations = h.count("POST", "/registrar/v3/registrations");
    const since = Date.now();

    assert.equal(trouter.disconnectUser(bob.id), 1);
    await page.waitFor("bob", "realTimeNotificationDisconnected");
    await page.waitFor("bob", "realTimeNotificationConnected", 2, 10_000);
    const [disconnected] = await page.events("bob", "realTimeNotificationDisconnected");
    const reconnected = (await page.events("bob", "realTimeNotificationConnected"))[1]!;
    assert.ok(reconnected.at - disconnected!.at < 3000, `reconnected without back-off (${reconnected.at - disconnected!.at} ms)`);
    assert.equal(h.count("POST", "/v4/a", since), 1, "the reconnect allocation goes to {socketio}v4/a");
    assert.equal(h.count("POST", "/trouter/v4/a", since), 0);
    // The SDK re-registers after the reconnect (more than once if a refresh timer fires meanwhile on a
    // loaded machine); that it is the same registration is what the endpoint count below checks.
    await until("re-registration", () => h.count("POST", "/registrar/v3/registrations") > registrations, 30_000);
    assert.equal(trouter.stats(bob.id).endpoints, 1, "the same registration id: one endpoint");

    const { chatThread } = await alice.chat.createChatThread({ topic: "after reconnect" }, { participants: [member(alice), member(bob)] });
    await alice.chat.getChatThreadClient(chatThread!.id).sendMessage({ content: "still here?" });
    const [received] = await page.waitFor("bob", "chatMessageReceived");
    assert.equal(received!.data.message, "still here?");
    assert.deepEqual(page.errors, []);
  });

  it("flushes what happened between sockets after the next trouter.connected: durable events in order, exactly once, and recent live signals", async () => {
    const [alice, bob] = [await h.newUser(), await h.newUser()];
    const { chatThread } = await alice.chat.createChatThread({ topic: "gap" }, { participants: [member(alice, "Alice"), member(bob, "Bob")] });
    const thread = alice.chat.getChatThreadClient(chatThread!.id);
    const first = await thread.sendMessage({ content: "before the gap" });
    const page = await h.newPage();
    await page.start("bob", bob.token);
    await page.waitFor("bob", "realTimeNotificationConnected");
    const trouter = h.server.parley.app.trouter;

    // Hold the client between sockets: its allocations are refused, so it backs off and retries.
    trouter.configure({ faults: { refuseAllocations: true } });
    trouter.disconnectUser(bob.id);
    await page.waitFor("bob", "realTimeNotificationDisconnected");
    const inGap = [];
    for (let i = 1; i <= 5; i++) inGap.push((await thread.sendMessage({ content: `in the gap ${i}` })).id);
    await thread.updateTopic("renamed in the gap");
    await bob.chat.getChatThreadClient(chatThread!.id).sendReadReceipt({ chatMessageId: first.id });
    await thread.sendTypingNotification();
    await sleep(1500);
    assert.deepEqual(await page.events("bob", "chatMessageReceived"), [], "nothing arrives while the client has no socket");

    trouter.configure({ faults: {} });
    await page.waitFor("bob", "realTimeNotificationConnected", 2, 20_000);
    const received = await page.waitFor("bob", "chatMessageReceived", 5);
    assert.deepEqual(received.map((e) => e.data.id), inGap, "in order, exactly once");
    await page.waitFor("bob", "chatThreadPropertiesUpdated");
    const [receipt] = await page.waitFor("bob", "readReceiptReceived");
    assert.equal(receipt!.data.chatMessageId, first.id);
    await sleep(500);
    assert.equal((await page.events("bob", "chatMessageReceived")).length, 5);
    assert.equal((await page.events("bob", "chatThreadPropertiesUpdated")).length, 1);
  });

  it("closes the socket at the token's expiry; a credential with a tokenRefresher comes back with the fresh token", async () => {
    const [alice, bob] = [await h.newUser(), await h.newUser()];
    let refreshed = 0;
    h.onRefresh("bob", async () => {
      refreshed++;
      return (await h.identity.getToken({ communicationUserId: bob.id }, ["chat"])).token;
    });
    const expiresInSec = 10;
    const page = await h.newPage();
    await page.start("bob", await shortLivedToken(h, bob.id, expiresInSec), { refresh: true });
    const startedAt = Date.now();
    await page.waitFor("bob", "realTimeNotificationConnected");
    assert.equal(refreshed, 0);

    const [dropped] = await page.waitFor("bob", "realTimeNotificationDisconnected", 1, (expiresInSec + 10) * 1000);
    assert.ok(dropped!.at - startedAt >= (expiresInSec - 2) * 1000, "not before the token expired");
    await page.waitFor("bob", "realTimeNotificationConnected", 2, 20_000);
    assert.equal(refreshed, 1, "the SDK asked its credential, which refreshed the expired token");

    const { chatThread } = await alice.chat.createChatThread({ topic: "fresh token" }, { participants: [member(alice), member(bob)] });
    await alice.chat.getChatThreadClient(chatThread!.id).sendMessage({ content: "after refresh" });
    const [received] = await page.waitFor("bob", "chatMessageReceived");
    assert.equal(received!.data.message, "after refresh");
  });

  it("closes the socket on revocation; the revoked token is refused with 401 and real-time stops", async () => {
    const bob = await h.newUser();
    const page = await h.newPage();
    await page.start("bob", bob.token);
    await page.waitFor("bob", "realTimeNotificationConnected");
    const revokedAt = Date.now();
    await h.identity.revokeTokens({ communicationUserId: bob.id });
    await page.waitFor("bob", "realTimeNotificationDisconnected", 1, 5000);
    const trouter = h.server.parley.app.trouter;
    assert.equal(trouter.stats(bob.id).connected, 0);
    // The client re-allocates with its cached token, gets 401, asks for a fresh one (the same, static
    // token) and gives up after four such answers instead of hammering the server.
    await sleep(12_000);
    const attempts = h.seen.filter((r) => r.method === "POST" && r.path.endsWith("/v4/a")).length;
    await sleep(6_000);
    assert.equal(h.seen.filter((r) => r.method === "POST" && r.path.endsWith("/v4/a")).length, attempts, "no more allocations: real-time stopped");
    assert.equal((await page.events("bob", "realTimeNotificationConnected")).length, 1);
    const refused = h.seen.filter((r) => r.method === "POST" && r.path.endsWith("/v4/a") && r.at >= revokedAt);
    assert.ok(refused.length >= 1 && refused.length <= 5, `a few allocations after the revocation (${refused.length})`);
    assert.deepEqual([...new Set(refused.map((r) => r.status))], [401]);
  });
});
