// The WebSocket event stream end to end: real sockets on loopback, a real server and store.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { CLOSE_CODES, type ChatEventName } from "@parley/protocol";
import { loadOrCreateSecrets, TokenService } from "@parley/server";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { identityClient, member, newUser, type TestUser } from "../helpers/sdk.js";
import { StreamClient } from "../helpers/stream.js";
import { rawRequest } from "../helpers/http.js";
import { readFileSync } from "node:fs";

/** The largest socket buffer the kernel grants for `name` (net.ipv4.tcp_rmem / tcp_wmem: min default max). */
const kernelBufferMax = (name: "tcp_rmem" | "tcp_wmem"): number => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, "utf8").trim().split(/\s+/)[2]);

const names = (c: StreamClient) => c.events.map((e) => e.event);

describe("event stream", () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const open: StreamClient[] = [];
  const connect = async (options: Parameters<typeof StreamClient.open>[1]) => {
    const client = await StreamClient.open(server, options);
    open.push(client);
    return client;
  };

  before(async () => {
    server = await startTestServer({ stream: { heartbeatMs: 300 } });
    [alice, bob] = await Promise.all([newUser(server), newUser(server)]);
  });
  after(async () => {
    open.forEach((c) => c.close());
    await server.close();
  });

  it("delivers all ten event kinds, shaped like the official SDK's, to every participant", async () => {
    const carol = await newUser(server);
    const a = await connect({ token: alice.token });
    const b = await connect({ token: bob.token });
    const c = await connect({ token: carol.token });
    await Promise.all([a.ready(), b.ready(), c.ready()]);

    const { chatThread } = await alice.chat.createChatThread({ topic: "live" }, { participants: [member(alice, "Alice"), member(bob, "Bob")] });
    const threadId = chatThread!.id;
    const asAlice = alice.chat.getChatThreadClient(threadId);
    const { id: messageId } = await asAlice.sendMessage({ content: "hello" }, { senderDisplayName: "Alice", metadata: { k: "v" } });
    await bob.chat.getChatThreadClient(threadId).sendTypingNotification({ senderDisplayName: "Bob" });
    await bob.chat.getChatThreadClient(threadId).sendReadReceipt({ chatMessageId: messageId });
    await asAlice.updateMessage(messageId, { content: "hello!" });
    await asAlice.deleteMessage(messageId);
    await asAlice.updateTopic("still live");
    await asAlice.addParticipants({ participants: [member(carol, "Carol")] });
    await asAlice.removeParticipant({ communicationUserId: carol.id });
    await alice.chat.deleteChatThread(threadId);

    const expected: ChatEventName[] = [
      "chatThreadCreated", "chatMessageReceived", "typingIndicatorReceived", "readReceiptReceived", "chatMessageEdited",
      "chatMessageDeleted", "chatThreadPropertiesUpdated", "participantsAdded", "participantsRemoved", "chatThreadDeleted",
    ];
    await b.eventCount(expected.length);
    assert.deepEqual(names(b), expected);
    await a.eventCount(expected.length);
    assert.deepEqual(names(a), expected, "the sender's own connection gets everything too");
    await c.eventCount(2);
    assert.deepEqual(names(c), ["participantsAdded", "participantsRemoved"], "carol hears her own addition and removal only");

    const byName = Object.fromEntries(b.events.map((e) => [e.event, e]));
    const received = byName.chatMessageReceived!.data as any;
    assert.equal(received.threadId, threadId);
    assert.equal(received.id, messageId);
    assert.equal(received.message, "hello");
    assert.deepEqual(received.metadata, { k: "v" });
    assert.equal(received.senderDisplayName, "Alice");
    assert.deepEqual(received.sender, { kind: "communicationUser", communicationUserId: alice.id });
    assert.deepEqual(received.recipient, { kind: "communicationUser", communicationUserId: bob.id });
    assert.ok(!Number.isNaN(Date.parse(received.createdOn)));
    assert.equal((byName.chatMessageEdited!.data as any).message, "hello!");
    assert.ok(Date.parse((byName.chatMessageEdited!.data as any).editedOn));
    assert.ok(Date.parse((byName.chatMessageDeleted!.data as any).deletedOn));
    assert.equal((byName.typingIndicatorReceived!.data as any).senderDisplayName, "Bob");
    assert.equal(byName.typingIndicatorReceived!.seq, null, "typing is live-only");
    assert.equal((byName.readReceiptReceived!.data as any).chatMessageId, messageId);
    assert.equal((byName.chatThreadCreated!.data as any).properties.topic, "live");
    assert.deepEqual((byName.chatThreadCreated!.data as any).participants.map((p: any) => p.displayName).sort(), ["Alice", "Bob"]);
    assert.equal((byName.chatThreadCreated!.data as any).createdBy.displayName, "Alice");
    assert.equal((byName.chatThreadPropertiesUpdated!.data as any).properties.topic, "still live");
    assert.equal((byName.participantsAdded!.data as any).participantsAdded[0].displayName, "Carol");
    assert.equal((byName.participantsRemoved!.data as any).participantsRemoved[0].id.communicationUserId, carol.id);
    assert.equal((byName.chatThreadDeleted!.data as any).deletedBy.displayName, "Alice");

    const seqs = b.events.filter((e) => e.seq !== null).map((e) => e.seq!);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), "durable seqs increase along a user's stream");
    // Seqs are change-feed positions, so they have gaps; a replay from before the first gives the same ones.
    const replay = await connect({ token: bob.token, cursor: seqs[0]! - 1 });
    await replay.eventCount(seqs.length);
    assert.deepEqual(replay.events.map((e) => e.seq), seqs);
    replay.close();
  });

  it("a reconnect with the last cursor gets exactly what was missed, in order, once", async () => {
    const first = await connect({ token: bob.token });
    await first.ready();
    const { chatThread } = await alice.chat.createChatThread({ topic: "gap" }, { participants: [member(bob)] });
    const thread = alice.chat.getChatThreadClient(chatThread!.id);
    await thread.sendMessage({ content: "before" });
    await first.eventCount(2);
    const cursor = first.lastSeq;
    first.close();
    await first.closedWith();

    const missed = [];
    for (let i = 0; i < 30; i++) missed.push((await thread.sendMessage({ content: `while away ${i}` })).id);

    const second = await connect({ token: bob.token, cursor });
    await second.ready();
    await second.eventCount(30);
    await thread.sendMessage({ content: "live again" });
    await second.eventCount(31);
    const ids = second.events.map((e) => (e.data as any).id);
    assert.deepEqual(ids.slice(0, 30), missed);
    assert.equal((second.events[30]!.data as any).message, "live again");
    const seqs = second.events.map((e) => e.seq!);
    assert.ok(seqs[0]! > cursor);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), "in order, each once");
  });

  it("live connections get committed events without reading the log, identical to a replay from it", async () => {
    const carol = await newUser(server);
    const live = await Promise.all([connect({ token: alice.token }), connect({ token: bob.token })]);
    await Promise.all(live.map((c) => c.ready()));
    const store = server.parley.store;
    let logReads = 0;
    const readEvents = store.readEvents.bind(store);
    store.readEvents = (...args) => (logReads++, readEvents(...args));
    try {
      const { chatThread } = await alice.chat.createChatThread({ topic: "shortcut" }, { participants: [member(alice, "Alice"), member(bob, "Bob")] });
      const thread = alice.chat.getChatThreadClient(chatThread!.id);
      const { id } = await thread.sendMessage({ content: "<b>hi</b>" }, { type: "html", senderDisplayName: "Alice", metadata: { k: "v" } });
      await thread.updateMessage(id, { content: "edited", metadata: { k: "w" } });
      await thread.deleteMessage(id);
      await thread.updateTopic("renamed");
      await thread.addParticipants({ participants: [member(carol, "Carol")] });
      await thread.removeParticipant({ communicationUserId: carol.id });
      await alice.chat.deleteChatThread(chatThread!.id);
      await Promise.all(live.map((c) => c.eventCount(8)));
      assert.equal(logReads, 0, "every event went out from the commit, none was read back");
    } finally {
      delete (store as { readEvents?: unknown }).readEvents;
    }
    for (const [client, token] of [[live[0]!, alice.token], [live[1]!, bob.token]] as const) {
      const delivered = client.events.filter((e) => e.seq !== null);
      const replay = await connect({ token, cursor: delivered[0]!.seq! - 1 });
      await replay.eventCount(delivered.length);
      assert.deepEqual(replay.events, delivered, "the same frames, whether from the commit or from the log");
    }
  });

  it("a notice without its events makes connections read the stream, and the shortcut comes back after", async () => {
    const stream = await connect({ token: bob.token });
    await stream.ready();
    const { chatThread } = await alice.chat.createChatThread({ topic: "gap" }, { participants: [member(bob)] });
    const thread = alice.chat.getChatThreadClient(chatThread!.id);
    await stream.eventCount(1);
    const store = server.parley.store;
    let reads = 0;
    const readEvents = store.readEvents.bind(store);
    store.readEvents = (...args) => (reads++, readEvents(...args));
    try {
      // What another node's bus (or a lost announcement) looks like: "bob's stream grew", no events.
      await server.parley.app.bus.publish({ type: "logsGrew", userIds: [bob.id] });
      await new Promise((r) => setTimeout(r, 50));
      // One read per open connection of bob's (earlier tests here leave some open).
      assert.ok(reads >= 1, "the notice without events was answered by a read");
      reads = 0;
      for (let i = 0; i < 5; i++) {
        await thread.sendMessage({ content: `after the gap ${i}` });
        await stream.eventCount(2 + i);
      }
      assert.ok(reads < 5, `then events went out from the commits again (${reads} reads for 5 messages)`);
    } finally {
      delete (store as { readEvents?: unknown }).readEvents;
    }
    assert.deepEqual(names(stream), ["chatThreadCreated", ...Array(5).fill("chatMessageReceived")]);
    const seqs = stream.events.map((e) => e.seq!);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), "in order, each once");
    stream.close();
  });

  it("several connections of one user each get every event", async () => {
    const tabs = await Promise.all([connect({ token: bob.token }), connect({ token: bob.token }), connect({ token: bob.token })]);
    await Promise.all(tabs.map((t) => t.ready()));
    const { chatThread } = await alice.chat.createChatThread({ topic: "tabs" }, { participants: [member(bob)] });
    for (let i = 0; i < 5; i++) await alice.chat.getChatThreadClient(chatThread!.id).sendMessage({ content: `m${i}` });
    for (const tab of tabs) {
      await tab.eventCount(6);
      assert.deepEqual(names(tab), ["chatThreadCreated", ...Array(5).fill("chatMessageReceived")]);
    }
  });

  it("authenticates with a first auth frame (browsers) and refuses bad or missing tokens", async () => {
    const viaFrame = await connect({ authFrame: { token: bob.token } });
    await viaFrame.ready();
    const bad = await connect({ authFrame: { token: "not.a.token" } });
    assert.equal((await bad.closedWith()).code, CLOSE_CODES.unauthorized);
    const forged = await connect({ token: `${bob.token.slice(0, -3)}abc` });
    assert.equal((await forged.closedWith()).code, CLOSE_CODES.unauthorized);
    const garbage = await connect({});
    garbage.ws.send("{nope");
    assert.equal((await garbage.closedWith()).code, CLOSE_CODES.protocolError);
  });

  it("answers upgrades on other paths with 404", async () => {
    await assert.rejects(
      StreamClient.open({ ...server, endpoint: `${server.endpoint}nope/` }, { token: bob.token }),
      /404/,
    );
  });

  it("revokeTokens and deleteUser close the user's sockets within a second", async () => {
    const identity = identityClient(server);
    const victim = await newUser(server);
    const stream = await connect({ token: victim.token });
    await stream.ready();
    const start = Date.now();
    await identity.revokeTokens({ communicationUserId: victim.id });
    assert.equal((await stream.closedWith()).code, CLOSE_CODES.tokenRevoked);
    assert.ok(Date.now() - start < 1000);

    const doomed = await newUser(server);
    const other = await connect({ token: doomed.token });
    await other.ready();
    await identity.deleteUser({ communicationUserId: doomed.id });
    assert.equal((await other.closedWith()).code, CLOSE_CODES.tokenRevoked);
  });

  it("closes the socket when the token expires, and an auth frame with a fresh token extends it", async () => {
    const secrets = loadOrCreateSecrets(server.dataDir);
    // Issued 59 min 58 s ago with a 60-minute lifetime: it expires within about two seconds
    // (JWT times are whole seconds).
    const nearlyExpired = () =>
      new TokenService(secrets.tokenSecret, { resourceId: secrets.resourceId, clock: () => Date.now() - (60 * 60_000 - 2000) }).issue({
        userId: bob.id, scopes: ["chat"], epoch: 0, expiresInMinutes: 60,
      });
    const expiring = await connect({ token: (await nearlyExpired()).token });
    await expiring.ready();
    assert.equal((await expiring.closedWith()).code, CLOSE_CODES.tokenExpired);

    const refreshed = await connect({ token: (await nearlyExpired()).token });
    await refreshed.ready();
    refreshed.ws.send(JSON.stringify({ type: "auth", token: bob.token }));
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(refreshed.closed, undefined, "a refreshed token keeps the socket open");
  });

  it("a cursor past retention or ahead of the log gets an explicit resync", async () => {
    const user = await newUser(server);
    const { chatThread } = await alice.chat.createChatThread({ topic: "old" }, { participants: [member(user)] });
    await alice.chat.getChatThreadClient(chatThread!.id).sendMessage({ content: "soon pruned" });
    await server.parley.store.pruneEvents(Date.now() + 1000);
    const head = await server.parley.store.changesHead();
    const stale = await connect({ token: user.token, cursor: 0 });
    await stale.until((c) => c.frames.some((f) => f.type === "resync"), "resync");
    assert.deepEqual(stale.frames[0], { type: "resync", reason: "cursorExpired", cursor: head });
    const ahead = await connect({ token: user.token, cursor: head + 1 });
    await ahead.until((c) => c.frames.some((f) => f.type === "resync"), "resync");
    assert.equal((ahead.frames[0] as any).reason, "cursorAhead");
  });

  it("pings, and drops a peer that stops answering", async () => {
    const quiet = await connect({ token: bob.token });
    await quiet.ready();
    await quiet.until((c) => c.frames.some((f) => f.type === "ping"), "an app-level ping");
    const before = server.parley.app.gateway.connectionCount;
    // Stop reading the socket: no pongs go back, so the server must give up on us.
    (quiet.ws as any)._socket.pause();
    const deadline = Date.now() + 3000;
    while (server.parley.app.gateway.connectionCount >= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(server.parley.app.gateway.connectionCount < before, "the server dropped the silent connection");
  });

  it("healthz still answers while streams are open (HTTP and WebSocket share the listeners)", async () => {
    assert.equal((await rawRequest(`${server.endpoint}healthz`, { ca: server.caPem })).status, 200);
  });
});

describe("event stream across a restart and under a slow consumer", () => {
  it("resumes from the stored sequence after the server restarts", async () => {
    let server = await startTestServer({ keepDataDir: true });
    const dataDir = server.dataDir;
    try {
      const [alice, bob] = await Promise.all([newUser(server), newUser(server)]);
      const stream = await StreamClient.open(server, { token: bob.token });
      await stream.ready();
      const { chatThread } = await alice.chat.createChatThread({ topic: "restart" }, { participants: [member(bob)] });
      await stream.eventCount(1);
      const cursor = stream.lastSeq;
      await server.close();
      assert.equal((await stream.closedWith()).code, CLOSE_CODES.goingAway);

      server = await startTestServer({ dataDir });
      const asAlice = (await import("../helpers/sdk.js")).chatClient(server, alice.token).getChatThreadClient(chatThread!.id);
      for (let i = 0; i < 3; i++) await asAlice.sendMessage({ content: `after restart ${i}` });
      const resumed = await StreamClient.open(server, { token: bob.token, cursor });
      await resumed.eventCount(3);
      assert.deepEqual(resumed.events.map((e) => (e.data as any).message), ["after restart 0", "after restart 1", "after restart 2"]);
      // Only this test's users are on this server, so nothing else took a seq in between.
      assert.deepEqual(resumed.events.map((e) => e.seq), [cursor + 1, cursor + 2, cursor + 3]);
      resumed.close();
    } finally {
      await server.close();
      (await import("node:fs")).rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a consumer that stops reading is disconnected with 4008 instead of growing server memory", async () => {
    const server = await startTestServer({ stream: { softBufferBytes: 16 * 1024, hardBufferBytes: 64 * 1024, stallMs: 500, heartbeatMs: 60_000 } });
    try {
      const [alice, bob] = await Promise.all([newUser(server), newUser(server)]);
      const slow = await StreamClient.open(server, { token: bob.token });
      await slow.ready();
      (slow.ws as any)._socket.pause();
      const { chatThread } = await alice.chat.createChatThread({ topic: "firehose" }, { participants: [member(bob)] });
      const thread = alice.chat.getChatThreadClient(chatThread!.id);
      // Send until the server gives up on the stalled client. How much loopback absorbs before the
      // server's own send buffer fills depends on the kernel (a receive buffer may grow up to
      // tcp_rmem's maximum: 32 MiB on our CI machines, where a fixed 8 MB once all fit), so the
      // bound is what the kernel could hold on both sides, not a fixed count.
      const big = "x".repeat(27_000);
      const gateway = server.parley.app.gateway;
      const connections = gateway.connectionCount;
      const cap = Math.ceil((kernelBufferMax("tcp_rmem") + kernelBufferMax("tcp_wmem")) / big.length) + 200;
      let total = 0;
      while (gateway.connectionCount >= connections && total < cap) await thread.sendMessage({ content: `${total++} ${big}` });
      assert.ok(gateway.connectionCount < connections, `the server dropped the stalled client within ${total} messages of ${big.length} bytes`);
      (slow.ws as any)._socket.resume();
      const closed = await slow.closedWith();
      assert.equal(closed.code, CLOSE_CODES.slowConsumer);
      const received = slow.events.length;
      assert.ok(received < total + 1, `the server stopped feeding the stalled client (it got ${received} of ${total + 1})`);

      // It resumes from its cursor and gets the rest.
      const again = await StreamClient.open(server, { token: bob.token, cursor: slow.lastSeq });
      await again.until((c) => c.lastSeq >= total + 1, "the rest of the log", 10_000);
      assert.equal(again.events.at(-1)!.seq, total + 1);
      assert.equal(again.events[0]!.seq, slow.lastSeq + 1, "no gap and no duplicate across the reconnect");
      again.close();
    } finally {
      await server.close();
    }
  });
});
