// The unmodified official browser SDK receives all ten chat events from Parley through the Trouter
// emulation, with every public field checked (docs/realtime.md "Official browser SDK"), over
// WebSocket and with the handshake limited to xhr-polling; fan-out to every tab of every
// participant, the sender's own tabs included; plain http for a client that opts in.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ChatClient } from "@azure/communication-chat";
import { renderLogPayload, type EventRecord } from "@parley/server";
import { AppPage, Harness, assertDate, type SdkEvent } from "./harness.js";
import { member } from "../helpers/sdk.js";

const userKind = (id: string) => ({ kind: "communicationUser", communicationUserId: id });
const TOPIC = "Topic 100% ✓ %41 %u2713 ünï";

/** Every client listed receives exactly one event of this name matching `where`; returns them. */
async function eachGets(clients: Array<[AppPage, string]>, name: string, where: (e: SdkEvent) => boolean): Promise<SdkEvent[]> {
  const out: SdkEvent[] = [];
  for (const [page, client] of clients) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = (await page.events(client, name)).filter(where);
      if (found.length >= 1) {
        out.push(found[0]!);
        break;
      }
      if (Date.now() > deadline) throw new Error(`${client} did not receive ${name}; got ${(await page.events(client)).map((e) => e.name).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return out;
}

function participantOf(user: { id: string }, displayName?: string, extra: Record<string, unknown> = {}) {
  return { id: userKind(user.id), ...(displayName !== undefined && { displayName }), metadata: {}, ...extra };
}

/** The whole life of a thread, checked field by field in three listening clients (two users, one with two tabs). */
async function allTenEvents(h: Harness, transport: "websocket" | "polling"): Promise<void> {
  const trouter = h.server.parley.app.trouter;
  const before = { ...trouter.counters };
  const [alice, bob, carol] = [await h.newUser(), await h.newUser(), await h.newUser()];
  const [aliceTab1, aliceTab2, bobPage] = [await h.newPage(), await h.newPage(), await h.newPage()];
  await aliceTab1.start("alice", alice.token);
  await aliceTab2.start("alice2", alice.token);
  await bobPage.start("bob", bob.token);
  const everyone: Array<[AppPage, string]> = [
    [aliceTab1, "alice"],
    [aliceTab2, "alice2"],
    [bobPage, "bob"],
  ];
  for (const [page, name] of everyone) await page.waitFor(name, "realTimeNotificationConnected");
  assert.equal(trouter.stats(alice.id)[transport], 2, `alice's two tabs are connected over ${transport}`);
  assert.equal(trouter.stats(bob.id)[transport], 1);
  const recipientOf = (client: string) => (client === "bob" ? bob.id : alice.id);

  // 257 chatThreadCreated: nested escaped strings survive %, %XX, %uXXXX and non-ASCII.
  const { chatThread } = await alice.chat.createChatThread(
    { topic: TOPIC },
    {
      participants: [member(alice, "Ada 100% ✓"), { ...member(bob, "Bob %u00fc"), metadata: { role: "guest" } }],
      metadata: { k: "v 100%" },
      retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 30 },
    },
  );
  const threadId = chatThread!.id;
  for (const e of await eachGets(everyone, "chatThreadCreated", (e) => e.data.threadId === threadId)) {
    assert.deepEqual(e.data.properties, { topic: TOPIC, metadata: { k: "v 100%" } });
    assert.deepEqual(e.data.retentionPolicy, { kind: "threadCreationDate", deleteThreadAfterDays: 30 });
    assertDate(e.data.createdOn, chatThread!.createdOn, "createdOn");
    assert.deepEqual(e.data.createdBy, participantOf(alice, "Ada 100% ✓"));
    assert.deepEqual(e.data.participants, [participantOf(alice, "Ada 100% ✓"), participantOf(bob, "Bob %u00fc", { metadata: { role: "guest" } })]);
    assert.match(e.data.version, /^\d+$/);
  }

  const aliceThread = alice.chat.getChatThreadClient(threadId);
  const bobThread = bob.chat.getChatThreadClient(threadId);
  /** What every message, typing and receipt event opens with (the SDK's BaseChatEvent), as `client` receives it. */
  const chatEventBase = (sender: { id: string }, senderDisplayName: string, client: string) => ({
    threadId,
    sender: userKind(sender.id),
    senderDisplayName,
    recipient: userKind(recipientOf(client)),
  });

  // 200 chatMessageReceived, text and html, with metadata; the sender's own tabs hear it too.
  const sent = await aliceThread.sendMessage({ content: "hello 100% ünïcode %41" }, { senderDisplayName: "Ada", metadata: { a: "b" } });
  const message = await aliceThread.getMessage(sent.id);
  for (const [e, [, client]] of zip(await eachGets(everyone, "chatMessageReceived", (e) => e.data.id === sent.id), everyone)) {
    assert.deepEqual(e.data, {
      ...chatEventBase(alice, "Ada", client),
      id: sent.id,
      createdOn: { $date: message.createdOn.toISOString() },
      version: message.version,
      type: "Text",
      message: "hello 100% ünïcode %41",
      metadata: { a: "b" },
      attachments: [],
    });
  }
  const html = await bobThread.sendMessage({ content: "<b>bold</b>" }, { type: "html", senderDisplayName: "Bob" });
  for (const e of await eachGets(everyone, "chatMessageReceived", (e) => e.data.id === html.id)) {
    assert.equal(e.data.type, "RichText/Html");
    assert.equal(e.data.message, "<b>bold</b>");
    assert.deepEqual(e.data.sender, userKind(bob.id));
    assert.deepEqual(e.data.metadata, {});
  }

  // 247 chatMessageEdited: new content and version, creation time kept, editedOn.
  await aliceThread.updateMessage(sent.id, { content: "edited ✓ 100%", metadata: { a: "c" } });
  const edited = await aliceThread.getMessage(sent.id);
  for (const e of await eachGets(everyone, "chatMessageEdited", (e) => e.data.id === sent.id)) {
    assert.equal(e.data.message, "edited ✓ 100%");
    assert.deepEqual(e.data.metadata, { a: "c" });
    assert.equal(e.data.version, edited.version);
    assert.equal(e.data.type, "Text");
    assertDate(e.data.createdOn, message.createdOn, "createdOn");
    assertDate(e.data.editedOn, edited.editedOn, "editedOn");
    assert.deepEqual(e.data.sender, userKind(alice.id));
    assert.equal(e.data.senderDisplayName, "Ada");
  }

  // 245 typingIndicatorReceived: live-only, to everyone including the typist's own tabs.
  const typedAt = Date.now();
  assert.equal(await bobThread.sendTypingNotification({ senderDisplayName: "Bob" }), true);
  for (const [e, [, client]] of zip(await eachGets(everyone, "typingIndicatorReceived", (e) => e.data.threadId === threadId), everyone)) {
    assert.deepEqual(e.data.sender, userKind(bob.id));
    assert.deepEqual(e.data.recipient, userKind(recipientOf(client)));
    assert.equal(e.data.senderDisplayName, "Bob");
    assertDate(e.data.receivedOn, undefined, "receivedOn");
    assert.ok(Math.abs(Date.parse(e.data.receivedOn.$date) - typedAt) < 5000, "receivedOn is the server's now");
    assert.match(e.data.version, /^\d+$/);
  }

  // 246 readReceiptReceived: readOn from the consumption horizon.
  await bobThread.sendReadReceipt({ chatMessageId: sent.id });
  const receipts = [];
  for await (const r of aliceThread.listReadReceipts()) receipts.push(r);
  const receipt = receipts.find((r) => r.sender.kind === "communicationUser" && r.sender.communicationUserId === bob.id)!;
  for (const [e, [, client]] of zip(await eachGets(everyone, "readReceiptReceived", (e) => e.data.chatMessageId === sent.id), everyone)) {
    assert.deepEqual(e.data, {
      ...chatEventBase(bob, "", client),
      chatMessageId: sent.id,
      readOn: { $date: receipt.readOn.toISOString() },
    });
  }

  // 248 chatMessageDeleted.
  await aliceThread.deleteMessage(html.id).catch(() => undefined); // not the sender's: refused
  await bobThread.deleteMessage(html.id);
  for (const e of await eachGets(everyone, "chatMessageDeleted", (e) => e.data.id === html.id)) {
    assert.deepEqual(e.data.sender, userKind(bob.id));
    assert.equal(e.data.senderDisplayName, "Bob");
    assert.equal(e.data.type, "RichText/Html");
    assertDate(e.data.createdOn, undefined, "createdOn");
    assertDate(e.data.deletedOn, undefined, "deletedOn");
    assert.match(e.data.version, /^\d+$/);
    assert.equal("message" in e.data, false);
  }

  // 258 chatThreadPropertiesUpdated: topic, metadata and retention policy back to none.
  const topic2 = "Renamed %2F 50% → ✓";
  await aliceThread.updateProperties({ topic: topic2, metadata: { k: "w" }, retentionPolicy: { kind: "none" } });
  for (const e of await eachGets(everyone, "chatThreadPropertiesUpdated", (e) => e.data.threadId === threadId)) {
    assert.deepEqual(e.data.properties, { topic: topic2, metadata: { k: "w" } });
    assert.deepEqual(e.data.retentionPolicy, { kind: "none" });
    assert.deepEqual(e.data.updatedBy, participantOf(alice, "Ada 100% ✓"));
    assertDate(e.data.updatedOn, undefined, "updatedOn");
  }

  // 260 participantsAdded: shareHistoryTime as a Date, metadata; the added user is a recipient too.
  const shareHistoryTime = new Date(Date.now() - 3600_000);
  await aliceThread.addParticipants({ participants: [{ ...member(carol, "Carol 100%"), shareHistoryTime, metadata: { team: "x" } }] });
  for (const e of await eachGets(everyone, "participantsAdded", (e) => e.data.threadId === threadId)) {
    assert.deepEqual(e.data.participantsAdded, [participantOf(carol, "Carol 100%", { metadata: { team: "x" }, shareHistoryTime: { $date: new Date(Math.floor(shareHistoryTime.getTime())).toISOString() } })]);
    assert.deepEqual(e.data.addedBy, participantOf(alice, "Ada 100% ✓"));
    assertDate(e.data.addedOn, undefined, "addedOn");
  }

  // 261 participantsRemoved.
  await aliceThread.removeParticipant({ communicationUserId: carol.id });
  for (const e of await eachGets(everyone, "participantsRemoved", (e) => e.data.threadId === threadId)) {
    assert.equal(e.data.participantsRemoved.length, 1);
    assert.deepEqual(e.data.participantsRemoved[0].id, userKind(carol.id));
    assert.equal(e.data.participantsRemoved[0].displayName, "Carol 100%");
    assert.deepEqual(e.data.removedBy, participantOf(alice, "Ada 100% ✓"));
    assertDate(e.data.removedOn, undefined, "removedOn");
  }

  // 259 chatThreadDeleted by a user.
  await alice.chat.deleteChatThread(threadId);
  for (const e of await eachGets(everyone, "chatThreadDeleted", (e) => e.data.threadId === threadId)) {
    assert.equal(e.data.reason, "deletedByUser");
    assert.deepEqual(e.data.deletedBy, participantOf(alice, "Ada 100% ✓"));
    assertDate(e.data.deletedOn, undefined, "deletedOn");
  }

  // 259 chatThreadDeleted by the retention policy: deletedBy null.
  const { chatThread: short } = await alice.chat.createChatThread(
    { topic: "short-lived" },
    { participants: [member(alice, "Ada"), member(bob, "Bob")], retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 30 } },
  );
  await eachGets(everyone, "chatThreadCreated", (e) => e.data.threadId === short!.id);
  assert.deepEqual(await h.server.parley.store.expireThreads(Date.now() + 31 * 86_400_000), [short!.id]);
  for (const e of await eachGets(everyone, "chatThreadDeleted", (e) => e.data.threadId === short!.id)) {
    assert.equal(e.data.reason, "deletedByPolicy");
    assert.equal(e.data.deletedBy, null);
    assertDate(e.data.deletedOn, undefined, "deletedOn");
  }

  // Exactly once each (no duplicates on a healthy connection), and no payload the SDK rejected.
  for (const [page, client] of everyone) {
    const names = (await page.events(client)).map((e) => e.name).filter((n) => !n.startsWith("realTime"));
    assert.deepEqual(count(names), {
      chatThreadCreated: 2,
      chatMessageReceived: 2,
      chatMessageEdited: 1,
      typingIndicatorReceived: 1,
      readReceiptReceived: 1,
      chatMessageDeleted: 1,
      chatThreadPropertiesUpdated: 1,
      participantsAdded: 1,
      participantsRemoved: 1,
      chatThreadDeleted: 2,
    }, client);
    assert.deepEqual(page.errors, []);
  }
  assert.equal(trouter.counters.rejected - before.rejected, 0, "the SDK rejected no payload");
  assert.equal(trouter.counters.failed - before.failed, 0);
  for (const [page, client] of everyone) await page.stop(client);
}

function zip<A, B>(a: A[], b: B[]): Array<[A, B]> {
  return a.map((x, i) => [x, b[i]!]);
}

function count(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

describe("official browser SDK over WebSocket", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(async () => h?.close());

  it("receives all ten events with every field, in every tab of every participant", () => allTenEvents(h, "websocket"));

  it("registers with the allocate's surl and unregisters on stop", async () => {
    const user = await h.newUser();
    const page = await h.newPage();
    await page.start("u", user.token);
    await page.waitFor("u", "realTimeNotificationConnected");
    const trouter = h.server.parley.app.trouter;
    for (let i = 0; i < 100 && trouter.stats(user.id).registered === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(trouter.stats(user.id).registered, 1);
    const since = Date.now();
    await page.stop("u");
    for (let i = 0; i < 100 && trouter.stats(user.id).endpoints > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(trouter.stats(user.id), { allocations: trouter.stats(user.id).allocations, sessions: 0, connected: 0, websocket: 0, polling: 0, endpoints: 0, registered: 0 });
    // The socket can close (and the endpoint be forgotten) before the SDK's DELETE reaches us.
    for (let i = 0; i < 100 && h.count("DELETE", "/registrar/v3/registrations/", since) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.count("DELETE", "/registrar/v3/registrations/", since), 1);
  });

  it("maps phone and Teams identifiers and rewrites image attachment URLs (payloads Parley itself never produces)", async () => {
    const bob = await h.newUser();
    const page = await h.newPage();
    await page.start("bob", bob.token);
    await page.waitFor("bob", "realTimeNotificationConnected");
    const record: EventRecord = {
      userId: bob.id,
      seq: 1,
      name: "participantsAdded",
      threadId: "19:abc@thread.v2",
      at: Date.parse("2026-01-02T03:04:05.678Z"),
      data: {
        participants: [
          { userId: "4:+14255550123", displayName: "Phone", shareHistoryTime: 0 },
          { userId: "8:orgid:11111111-2222-3333-4444-555555555555", displayName: "Teams", shareHistoryTime: Date.parse("2026-01-01T00:00:00Z") },
        ],
        actor: { userId: bob.id, displayName: "Bob", shareHistoryTime: 0 },
      },
    };
    const trouter = h.server.parley.app.trouter;
    assert.equal(trouter.deliverRaw(bob.id, renderLogPayload(record)), 1);
    const [added] = await page.waitFor("bob", "participantsAdded");
    assert.deepEqual(added!.data.participantsAdded, [
      { id: { kind: "phoneNumber", rawId: "4:+14255550123", phoneNumber: "+14255550123" }, displayName: "Phone", metadata: {} },
      {
        id: { kind: "microsoftTeamsUser", rawId: "8:orgid:11111111-2222-3333-4444-555555555555", microsoftTeamsUserId: "11111111-2222-3333-4444-555555555555", isAnonymous: false, cloud: "public" },
        displayName: "Teams",
        metadata: {},
        shareHistoryTime: { $date: "2026-01-01T00:00:00.000Z" },
      },
    ]);
    assertDate(added!.data.addedOn, "2026-01-02T03:04:05.678Z");

    const message = renderLogPayload({
      userId: bob.id,
      seq: 2,
      name: "chatMessageReceived",
      threadId: "19:abc@thread.v2",
      at: 1,
      data: { message: { threadId: "19:abc@thread.v2", sequenceId: 3, id: "1700000000001", version: "1700000000001", type: "text", content: { message: "pic" }, senderId: "4:+14255550123", createdAt: 1 } },
    });
    const attachments = [{ id: "img1", attachmentType: "image", name: "a.png", url: "https://other.example/chat/threads/x/images/img1/views/original?x=1", previewUrl: "/chat/threads/x/images/img1/views/small" }];
    trouter.deliverRaw(bob.id, { ...message, attachments: JSON.stringify(attachments) });
    const [received] = await page.waitFor("bob", "chatMessageReceived");
    const origin = new URL(h.server.endpoint).origin;
    assert.deepEqual(received!.data.sender, { kind: "phoneNumber", rawId: "4:+14255550123", phoneNumber: "+14255550123" });
    assert.equal(received!.data.attachments[0].url, `${origin}/chat/threads/x/images/img1/views/original?api-version=2025-03-15`);
    assert.equal(received!.data.attachments[0].previewUrl, `${origin}/chat/threads/x/images/img1/views/small?api-version=2025-03-15`);
    assert.equal(trouter.counters.rejected, 0);
  });

  it("works over plain http for a client that opts in (allowInsecureConnection and a per-call policy)", async () => {
    const [alice, bob] = [await h.newUser(), await h.newUser()];
    const page = await h.newPage();
    await page.start("bob", bob.token, { insecure: true, endpoint: h.server.httpEndpoint });
    await page.waitFor("bob", "realTimeNotificationConnected");
    assert.ok(h.seen.some((r) => r.path === "/trouter/v4/a"));
    const { chatThread } = await alice.chat.createChatThread({ topic: "http" }, { participants: [member(alice), member(bob)] });
    await alice.chat.getChatThreadClient(chatThread!.id).sendMessage({ content: "over http" });
    const [e] = await page.waitFor("bob", "chatMessageReceived");
    assert.equal(e!.data.message, "over http");
  });
});

describe("official browser SDK with the handshake limited to xhr-polling", () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
    h.server.parley.app.trouter.configure({ transports: ["xhr-polling"] });
  });
  after(async () => h?.close());

  it("receives all ten events with every field, in every tab of every participant", async () => {
    await allTenEvents(h, "polling");
    assert.ok(h.count("GET", "/socket.io/1/xhr-polling/") > 0 && h.count("POST", "/socket.io/1/xhr-polling/") > 0);
  });
});

export type { ChatClient };
