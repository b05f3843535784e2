// @parley/sdk real-time in Node against a real Parley: official event names and payloads, reconnect
// without loss across a server restart, resume from a saved cursor, close codes 4002/4003, token
// refresh over the live socket, resync, heartbeats, and a silent server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { WebSocket as WsWebSocket, WebSocketServer } from "ws";
import { loadOrCreateSecrets, TokenService } from "@parley/server";
import {
  AzureCommunicationTokenCredential,
  parseToken,
  CHAT_EVENT_IDS,
  ChatClient,
  CLOSE_CODES,
  type ChatEventListeners,
  type ChatMessageReceivedEvent,
  type RealtimeDisconnectedEvent,
} from "@parley/sdk";
import { CLOSE_CODES as PROTOCOL_CLOSE_CODES } from "@parley/protocol";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { participant, sdkIdentity, sdkUser, sleep, until, userKind, type SdkUser } from "./support.js";

type Name = keyof ChatEventListeners;
const ALL_NAMES: Name[] = [...CHAT_EVENT_IDS, "realTimeNotificationConnected", "realTimeNotificationDisconnected", "realTimeNotificationResync"];

/** Records everything a ChatClient emits, in order. */
function record(chat: ChatClient) {
  const log: Array<{ name: Name; event: any }> = [];
  for (const name of ALL_NAMES) chat.on(name, ((event: unknown) => log.push({ name, event })) as never);
  return {
    log,
    of: (name: Name) => log.filter((l) => l.name === name).map((l) => l.event),
    messages: () => log.filter((l) => l.name === "chatMessageReceived").map((l) => (l.event as ChatMessageReceivedEvent).message),
  };
}

/**
 * A token for `userId` that expires between `ms` and `ms` + 1 s from now (JWT `exp` has whole seconds),
 * minted with the server's secret and a shifted clock.
 */
function shortLivedToken(server: TestServer, userId: string, ms: number): Promise<{ token: string }> {
  const secrets = loadOrCreateSecrets(server.dataDir);
  const service = new TokenService(secrets.tokenSecret, { resourceId: secrets.resourceId, clock: () => Date.now() - (60 * 60_000 - ms - 1000) });
  return service.issue({ userId, scopes: ["chat"], epoch: 0, expiresInMinutes: 60 });
}

const fastReconnect = { realtime: { reconnectDelayInMs: 100, maxReconnectDelayInMs: 500 } };

describe("@parley/sdk real-time (Node)", () => {
  let server: TestServer;
  let alice: SdkUser;
  let bob: SdkUser;
  const started: ChatClient[] = [];
  const live = async (chat: ChatClient, options?: { cursor?: number }) => {
    started.push(chat);
    await chat.startRealtimeNotifications(options);
    return chat;
  };

  before(async () => {
    server = await startTestServer({ stream: { heartbeatMs: 200 } });
    [alice, bob] = await Promise.all([sdkUser(server), sdkUser(server)]);
  });
  after(async () => {
    await Promise.all(started.map((c) => c.stopRealtimeNotifications()));
    await server.close();
  });

  it("uses the protocol's close codes", () => {
    for (const [name, code] of Object.entries(PROTOCOL_CLOSE_CODES)) assert.equal(CLOSE_CODES[name as keyof typeof CLOSE_CODES], code, name);
  });

  it("delivers all ten chat events with the official names and payloads (Dates, identifier kinds)", async () => {
    const carol = await sdkUser(server);
    const b = record(await live(bob.chat));
    const a = record(await live(alice.chat));
    assert.equal(bob.chat.realtimeConnected, true);

    const { chatThread } = await alice.chat.createChatThread({ topic: "live" }, { participants: [participant(alice, "Alice"), participant(bob, "Bob")] });
    const threadId = chatThread!.id;
    const asAlice = alice.chat.getChatThreadClient(threadId);
    const { id: messageId } = await asAlice.sendMessage({ content: "hello" }, { senderDisplayName: "Alice", metadata: { k: "v" } });
    await bob.chat.getChatThreadClient(threadId).sendTypingNotification({ senderDisplayName: "Bob" });
    await bob.chat.getChatThreadClient(threadId).sendReadReceipt({ chatMessageId: messageId });
    await asAlice.updateMessage(messageId, { content: "hello!" });
    await asAlice.deleteMessage(messageId);
    await asAlice.updateTopic("still live");
    await asAlice.addParticipants({ participants: [participant(carol, "Carol")] });
    await asAlice.removeParticipant({ communicationUserId: carol.id });
    await alice.chat.deleteChatThread(threadId);

    const expected = [
      "chatThreadCreated", "chatMessageReceived", "typingIndicatorReceived", "readReceiptReceived", "chatMessageEdited",
      "chatMessageDeleted", "chatThreadPropertiesUpdated", "participantsAdded", "participantsRemoved", "chatThreadDeleted",
    ];
    const chatNames = (r: ReturnType<typeof record>) => r.log.filter((l) => (CHAT_EVENT_IDS as readonly string[]).includes(l.name)).map((l) => l.name);
    await until(() => chatNames(b).length >= expected.length, "bob's ten events");
    assert.deepEqual(chatNames(b), expected);
    await until(() => chatNames(a).length >= expected.length, "alice's own events");
    assert.deepEqual(chatNames(a), expected, "the sender's client hears its own actions too");

    const [received] = b.of("chatMessageReceived");
    assert.equal(received.threadId, threadId);
    assert.equal(received.id, messageId);
    assert.equal(received.message, "hello");
    assert.deepEqual(received.metadata, { k: "v" });
    assert.equal(received.senderDisplayName, "Alice");
    assert.equal(received.type, "text");
    assert.equal(received.sequenceId, "3");
    assert.deepEqual(received.sender, userKind(alice));
    assert.deepEqual(received.recipient, userKind(bob));
    assert.ok(received.createdOn instanceof Date && Math.abs(received.createdOn.getTime() - Date.now()) < 10_000);

    const [edited] = b.of("chatMessageEdited");
    assert.equal(edited.message, "hello!");
    assert.ok(edited.editedOn instanceof Date);
    assert.ok(b.of("chatMessageDeleted")[0].deletedOn instanceof Date);
    const [typing] = b.of("typingIndicatorReceived");
    assert.equal(typing.senderDisplayName, "Bob");
    assert.ok(typing.receivedOn instanceof Date);
    const [receipt] = b.of("readReceiptReceived");
    assert.equal(receipt.chatMessageId, messageId);
    assert.ok(receipt.readOn instanceof Date);

    const [created] = b.of("chatThreadCreated");
    assert.equal(created.properties.topic, "live");
    assert.ok(created.createdOn instanceof Date);
    assert.deepEqual(created.createdBy.id, userKind(alice));
    assert.deepEqual(created.participants.map((p: any) => p.displayName).sort(), ["Alice", "Bob"]);
    assert.deepEqual(created.retentionPolicy, { kind: "none" });
    const [updated] = b.of("chatThreadPropertiesUpdated");
    assert.equal(updated.properties.topic, "still live");
    assert.ok(updated.updatedOn instanceof Date);
    const [added] = b.of("participantsAdded");
    assert.deepEqual(added.participantsAdded.map((p: any) => p.id), [userKind(carol)]);
    assert.ok(added.addedOn instanceof Date);
    assert.deepEqual(added.addedBy.id, userKind(alice));
    const [removed] = b.of("participantsRemoved");
    assert.equal(removed.participantsRemoved[0].displayName, "Carol");
    assert.ok(removed.removedOn instanceof Date);
    const [deleted] = b.of("chatThreadDeleted");
    assert.ok(deleted.deletedOn instanceof Date);
    assert.equal(deleted.reason, "deletedByUser");
    assert.equal(typeof bob.chat.realtimeCursor, "number");
  });

  it("off() unsubscribes; stop emits a final disconnected; events after stop are not delivered", async () => {
    const user = await sdkUser(server);
    const chat = await live(user.chat);
    const seen: string[] = [];
    const listener = (e: ChatMessageReceivedEvent) => seen.push(e.message);
    const disconnected: RealtimeDisconnectedEvent[] = [];
    chat.on("chatMessageReceived", listener);
    chat.on("realTimeNotificationDisconnected", (e) => disconnected.push(e));
    const { chatThread } = await chat.createChatThread({ topic: "off" });
    const thread = chat.getChatThreadClient(chatThread!.id);
    await thread.sendMessage({ content: "one" });
    await until(() => seen.length === 1, "the first message");
    chat.off("chatMessageReceived", listener);
    await thread.sendMessage({ content: "two" });
    await sleep(200);
    assert.deepEqual(seen, ["one"]);
    chat.on("chatMessageReceived", listener);
    await chat.stopRealtimeNotifications();
    assert.deepEqual(disconnected, [{ code: 1000, reason: "stopped", willReconnect: false }]);
    assert.equal(chat.realtimeConnected, false);
    await thread.sendMessage({ content: "three" });
    await sleep(200);
    assert.deepEqual(seen, ["one"]);
  });

  it("stopping while still connecting ends startRealtimeNotifications() quietly", async () => {
    const user = await sdkUser(server, "http");
    const r = record(user.chat);
    const starting = user.chat.startRealtimeNotifications();
    await user.chat.stopRealtimeNotifications();
    await starting;
    await sleep(300);
    assert.equal(user.chat.realtimeConnected, false);
    assert.deepEqual(r.log, []);
  });

  it("a restarted client resumes from its saved cursor: nothing sent meanwhile is lost", async () => {
    const user = await sdkUser(server);
    const { chatThread } = await alice.chat.createChatThread({ topic: "resume" }, { participants: [participant(user)] });
    const thread = alice.chat.getChatThreadClient(chatThread!.id);
    const first = record(await live(user.chat));
    await thread.sendMessage({ content: "seen" });
    await until(() => first.messages().length === 1, "the first message");
    const cursor = user.chat.realtimeCursor!;
    await user.chat.stopRealtimeNotifications();

    for (let i = 0; i < 3; i++) await thread.sendMessage({ content: `missed ${i}` });

    // A new client (think: a reloaded page) with the persisted cursor.
    const reloaded = new ChatClient(server.endpoint, new AzureCommunicationTokenCredential(user.token), { tlsOptions: { ca: server.caPem }, realtime: { cursor } });
    const second = record(reloaded);
    await live(reloaded);
    await until(() => second.messages().length === 3, "the missed messages");
    assert.deepEqual(second.messages(), ["missed 0", "missed 1", "missed 2"]);
    await thread.sendMessage({ content: "live again" });
    await until(() => second.messages().length === 4, "the live message");
    assert.equal(second.of("chatMessageReceived").at(-1).message, "live again");
  });

  it("a cursor the server cannot serve gives realTimeNotificationResync, then live events", async () => {
    const user = await sdkUser(server);
    const chat = new ChatClient(server.endpoint, new AzureCommunicationTokenCredential(user.token), { tlsOptions: { ca: server.caPem } });
    const r = record(chat);
    const head = await server.parley.store.changesHead();
    await live(chat, { cursor: 999_999 });
    assert.deepEqual(r.of("realTimeNotificationResync"), [{ reason: "cursorAhead", cursor: head }]);
    await chat.createChatThread({ topic: "after resync" });
    await until(() => r.of("chatThreadCreated").length === 1, "a live event after the resync");
    assert.equal(chat.realtimeCursor, head + 1, "the thread's creation is the feed's next change");
  });

  it("revoking the user's tokens closes with 4003: disconnected with willReconnect false, no reconnect", async () => {
    const identity = sdkIdentity(server);
    const { user, token } = await identity.createUserAndToken(["chat"]);
    const chat = new ChatClient(server.httpEndpoint, new AzureCommunicationTokenCredential(token), fastReconnect);
    const r = record(chat);
    await live(chat);
    await identity.revokeTokens(user);
    await until(() => r.of("realTimeNotificationDisconnected").length === 1, "the disconnect");
    assert.deepEqual(r.of("realTimeNotificationDisconnected")[0].code, CLOSE_CODES.tokenRevoked);
    assert.equal(r.of("realTimeNotificationDisconnected")[0].willReconnect, false);
    await sleep(700);
    assert.equal(r.of("realTimeNotificationConnected").length, 1, "no reconnection attempt succeeded or was made");
    // Starting again with the revoked token is refused outright.
    await assert.rejects(chat.startRealtimeNotifications(), /4003/);
  });

  it("an expired token (4002) is refreshed through the credential and the stream resumes without loss", async () => {
    const identity = sdkIdentity(server);
    const user = await identity.createUser();
    let refreshes = 0;
    const credential = new AzureCommunicationTokenCredential({
      token: (await shortLivedToken(server, user.communicationUserId, 1500)).token,
      tokenRefresher: async () => {
        refreshes++;
        return (await identity.getToken(user, ["chat"])).token;
      },
    });
    const chat = new ChatClient(server.httpEndpoint, credential, fastReconnect);
    const r = record(chat);
    await live(chat);
    const { chatThread } = await alice.chat.createChatThread({ topic: "expiry" }, { participants: [participant({ id: user.communicationUserId })] });
    const thread = alice.chat.getChatThreadClient(chatThread!.id);
    await until(() => r.of("realTimeNotificationDisconnected").length === 1, "the 4002 close", 5000);
    assert.equal(r.of("realTimeNotificationDisconnected")[0].code, CLOSE_CODES.tokenExpired);
    assert.equal(r.of("realTimeNotificationDisconnected")[0].willReconnect, true);
    await thread.sendMessage({ content: "during the gap" });
    await until(() => r.of("realTimeNotificationConnected").length === 2, "the reconnection");
    await thread.sendMessage({ content: "after" });
    await until(() => r.messages().length === 2, "both messages");
    assert.deepEqual(r.messages(), ["during the gap", "after"]);
    assert.equal(r.of("chatThreadCreated").length, 1, "nothing repeated");
    assert.equal(refreshes, 1);
  });

  it("with a static token that expired, the client stops (nothing can refresh it)", async () => {
    const user = await sdkIdentity(server).createUser();
    const chat = new ChatClient(server.httpEndpoint, new AzureCommunicationTokenCredential((await shortLivedToken(server, user.communicationUserId, 1000)).token), fastReconnect);
    const r = record(chat);
    await live(chat);
    await until(() => r.of("realTimeNotificationDisconnected").some((e: RealtimeDisconnectedEvent) => !e.willReconnect), "giving up", 5000);
    assert.equal(r.of("realTimeNotificationDisconnected").at(-1).code, CLOSE_CODES.tokenExpired);
    assert.equal(chat.realtimeConnected, false);
  });

  it("a proactively refreshed token is sent on the live socket (auth frame): the stream outlives the old token", async () => {
    const identity = sdkIdentity(server);
    const user = await identity.createUser();
    const credential = new AzureCommunicationTokenCredential({
      token: (await shortLivedToken(server, user.communicationUserId, 3000)).token,
      refreshProactively: true,
      tokenRefresher: async () => (await identity.getToken(user, ["chat"])).token,
    });
    const chat = new ChatClient(server.httpEndpoint, credential, fastReconnect);
    const r = record(chat);
    await live(chat);
    await sleep(4500); // past the first token's expiry (3–4 s)
    assert.deepEqual(r.of("realTimeNotificationDisconnected"), [], "the connection was never closed");
    await chat.createChatThread({ topic: "still connected" });
    await until(() => r.of("chatThreadCreated").length === 1, "an event on the same connection");
    assert.equal(r.of("realTimeNotificationConnected").length, 1);
    credential.dispose();
  });

  it("answers heartbeats: with 200 ms pings the connection stays up", async () => {
    const user = await sdkUser(server, "http");
    const r = record(await live(user.chat));
    await sleep(1200);
    assert.deepEqual(r.of("realTimeNotificationDisconnected"), []);
    assert.equal(user.chat.realtimeConnected, true);
  });

  it("uses an injected WebSocket implementation", async () => {
    const user = await sdkUser(server, "http");
    let constructed = 0;
    class CountingWebSocket extends WsWebSocket {
      constructor(url: string) {
        super(url);
        constructed++;
      }
    }
    const chat = new ChatClient(server.httpEndpoint, new AzureCommunicationTokenCredential(user.token), { WebSocket: CountingWebSocket as never });
    const r = record(chat);
    await live(chat);
    await chat.createChatThread({ topic: "injected" });
    await until(() => r.of("chatThreadCreated").length === 1, "an event");
    assert.equal(constructed, 1);
  });
});

describe("@parley/sdk real-time across a server restart", () => {
  it("reconnects with back-off and receives every message sent while it was away, once, in order", async () => {
    let server = await startTestServer({ keepDataDir: true });
    const dataDir = server.dataDir;
    const httpPort = Number(new URL(server.httpEndpoint).port);
    const httpsPort = Number(new URL(server.endpoint).port);
    const alice = await sdkUser(server, "http");
    const bob = await sdkUser(server, "http", { realtime: { reconnectDelayInMs: 300, maxReconnectDelayInMs: 1000 } });
    try {
      const r = record(bob.chat);
      await bob.chat.startRealtimeNotifications();
      const { chatThread } = await alice.chat.createChatThread({ topic: "restart" }, { participants: [participant(bob)] });
      const thread = alice.chat.getChatThreadClient(chatThread!.id);
      await thread.sendMessage({ content: "before" });
      await until(() => r.messages().length === 1, "the first message");

      await server.close();
      await until(() => r.of("realTimeNotificationDisconnected").length === 1, "the disconnect");
      assert.deepEqual(r.of("realTimeNotificationDisconnected")[0], { code: CLOSE_CODES.goingAway, reason: "server shutting down; reconnect with your cursor", willReconnect: true });
      await sleep(500); // at least one failed reconnect attempt while nothing listens

      server = await startTestServer({ dataDir, httpPort, httpsPort });
      for (let i = 0; i < 5; i++) await thread.sendMessage({ content: `m${i}` });
      await until(() => r.messages().length === 6, "every message", 10_000);
      assert.deepEqual(r.messages(), ["before", "m0", "m1", "m2", "m3", "m4"]);
      assert.equal(r.of("realTimeNotificationConnected").length, 2);
      await thread.sendMessage({ content: "live" });
      await until(() => r.messages().length === 7, "a live message after the reconnect");
      assert.equal(r.of("chatThreadCreated").length, 1, "nothing replayed twice");
    } finally {
      await bob.chat.stopRealtimeNotifications();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("@parley/sdk real-time against a scripted server", () => {
  let wss: WebSocketServer;
  let url: string;
  const received: any[] = [];
  let script: (socket: import("ws").WebSocket, frame: any, connection: number) => void = () => {};
  let connections = 0;

  before(async () => {
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/chat/events" });
    await new Promise((resolve) => wss.once("listening", resolve));
    url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    wss.on("connection", (socket) => {
      const connection = ++connections;
      socket.on("message", (data) => {
        const frame = JSON.parse(data.toString());
        received.push({ connection, frame });
        script(socket, frame, connection);
      });
    });
  });
  after(async () => {
    wss.clients.forEach((c) => c.terminate());
    await new Promise((resolve) => wss.close(resolve));
  });

  const token = (() => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    return `${b64({ alg: "none" })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600 })}.x`;
  })();
  const event = (seq: number) => ({
    type: "event",
    seq,
    event: "chatMessageReceived",
    data: { threadId: "t", id: String(seq), createdOn: new Date().toISOString(), version: "1", type: "text", message: `m${seq}`, metadata: {}, sender: { kind: "communicationUser", communicationUserId: "a" }, senderDisplayName: "", recipient: { kind: "communicationUser", communicationUserId: "b" } },
  });

  it("authenticates with an auth frame, answers pings, resumes with its cursor and drops duplicates", async () => {
    connections = 0;
    received.length = 0;
    script = (socket, frame, connection) => {
      if (frame.type !== "auth") return;
      socket.send(JSON.stringify({ type: "ready", userId: "b", cursor: frame.cursor ?? 10, heartbeatMs: 60_000, retentionHours: 24 }));
      socket.send(JSON.stringify({ type: "ping" }));
      if (connection === 1) {
        socket.send(JSON.stringify(event(11)));
        socket.send(JSON.stringify(event(12)));
        setTimeout(() => socket.close(4008, "slow consumer"), 50);
      } else {
        socket.send(JSON.stringify(event(12))); // a duplicate: already delivered
        socket.send(JSON.stringify(event(13)));
      }
    };
    const chat = new ChatClient(url, new AzureCommunicationTokenCredential(token), fastReconnect);
    const r = record(chat);
    await chat.startRealtimeNotifications();
    await until(() => r.messages().length === 3, "three distinct messages");
    assert.deepEqual(r.messages(), ["m11", "m12", "m13"]);
    assert.deepEqual(r.of("realTimeNotificationDisconnected")[0], { code: 4008, reason: "slow consumer", willReconnect: true });
    const auths = received.filter((x) => x.frame.type === "auth");
    assert.deepEqual(auths.map((a) => [a.connection, a.frame.token === token, a.frame.cursor]), [[1, true, undefined], [2, true, 12]]);
    assert.deepEqual(received.filter((x) => x.frame.type === "pong").map((x) => x.connection), [1, 2]);
    assert.equal(chat.realtimeCursor, 13);
    await chat.stopRealtimeNotifications();
  });

  it("presumes a silent server dead after two missed heartbeats and reconnects", async () => {
    connections = 0;
    received.length = 0;
    script = (socket, frame) => {
      if (frame.type === "auth") socket.send(JSON.stringify({ type: "ready", userId: "b", cursor: 0, heartbeatMs: 100, retentionHours: 24 }));
    };
    const chat = new ChatClient(url, new AzureCommunicationTokenCredential(token), fastReconnect);
    const r = record(chat);
    await chat.startRealtimeNotifications();
    await until(() => r.of("realTimeNotificationConnected").length === 2, "a reconnect after the silence", 8000);
    assert.equal(r.of("realTimeNotificationDisconnected")[0].code, CLOSE_CODES.heartbeatTimeout);
    await chat.stopRealtimeNotifications();
  });

  it("with a credential that has no onTokenRefreshed, asks it again 30 s before expiry and re-authenticates in place", async () => {
    connections = 0;
    received.length = 0;
    script = (socket, frame) => {
      if (frame.type === "auth" && frame.cursor === undefined && received.filter((x) => x.frame.type === "auth").length === 1) {
        socket.send(JSON.stringify({ type: "ready", userId: "b", cursor: 0, heartbeatMs: 60_000, retentionHours: 24 }));
      }
    };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const jwt = (exp: number, tag: string) => `${b64({ alg: "none" })}.${b64({ exp, tag })}.x`;
    const first = jwt(Math.floor(Date.now() / 1000) + 33, "first"); // the check comes 2–3 s from now
    const second = jwt(Math.floor(Date.now() / 1000) + 3600, "second");
    let current = first;
    setTimeout(() => (current = second), 1000);
    const plain = { getToken: async () => parseToken(current), dispose: () => {} };
    const chat = new ChatClient(url, plain, fastReconnect);
    await chat.startRealtimeNotifications();
    await until(() => received.filter((x) => x.frame.type === "auth").length === 2, "a second auth frame", 6000);
    const auths = received.filter((x) => x.frame.type === "auth");
    assert.deepEqual(auths.map((a) => [a.connection, a.frame.token]), [[1, first], [1, second]], "same connection, new token");
    assert.equal(auths[1].frame.cursor, undefined);
    await chat.stopRealtimeNotifications();
  });

  it("4001 on the first connection rejects startRealtimeNotifications", async () => {
    script = (socket, frame) => {
      if (frame.type === "auth") socket.close(4001, "bad token");
    };
    const chat = new ChatClient(url, new AzureCommunicationTokenCredential(token), fastReconnect);
    await assert.rejects(chat.startRealtimeNotifications(), /4001.*bad token/);
    assert.equal(chat.realtimeConnected, false);
  });
});
