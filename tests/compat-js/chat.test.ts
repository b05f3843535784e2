// The official @azure/communication-chat 1.6.0, unmodified, against a real Parley over HTTPS.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { ChatMessage } from "@azure/communication-chat";
import { loadOrCreateSecrets, TokenService } from "@parley/server";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { chatClient, identityClient, member, newUser, type TestUser } from "../helpers/sdk.js";
import { all, rejectsWith } from "../helpers/assertions.js";
import { rawRequest } from "../helpers/http.js";

describe("official JS chat SDK", () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  before(async () => {
    server = await startTestServer();
    [alice, bob, carol] = await Promise.all([newUser(server), newUser(server), newUser(server)]);
  });
  after(() => server.close());

  async function firstNextLink(url: string, token: string): Promise<string> {
    const page = await rawRequest(url, { headers: { authorization: `Bearer ${token}` }, ca: server.caPem });
    assert.equal(page.status, 200);
    assert.equal(typeof page.json.nextLink, "string", "the first page has a nextLink");
    return page.json.nextLink;
  }

  async function thread(topic = "Lunch", participants = [member(alice, "Alice"), member(bob, "Bob")]) {
    const created = await alice.chat.createChatThread({ topic }, { participants });
    assert.ok(created.chatThread, "createChatThread returned no chatThread");
    return created.chatThread.id;
  }

  describe("threads", () => {
    it("createChatThread returns the thread with creator, metadata and retention policy", async () => {
      const created = await alice.chat.createChatThread(
        { topic: "Planning" },
        {
          participants: [member(bob, "Bob")],
          metadata: { project: "parley" },
          retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 40 },
        },
      );
      const t = created.chatThread!;
      assert.match(t.id, /^19:[0-9a-f]{32}@thread\.v2$/);
      assert.equal(t.topic, "Planning");
      assert.deepEqual(t.createdBy, { kind: "communicationUser", communicationUserId: alice.id });
      assert.ok(Math.abs(t.createdOn.getTime() - Date.now()) < 10_000);
      assert.deepEqual(t.metadata, { project: "parley" });
      assert.deepEqual(t.retentionPolicy, { kind: "threadCreationDate", deleteThreadAfterDays: 40 });
      assert.equal(created.invalidParticipants, undefined);

      // The creator joins automatically; Bob was named.
      const participants = await all(alice.chat.getChatThreadClient(t.id).listParticipants());
      assert.deepEqual(participants.map((p) => (p.id as { communicationUserId: string }).communicationUserId).sort(), [alice.id, bob.id].sort());
    });

    it("history starts with participantAdded and topicUpdated system messages", async () => {
      const id = await thread("Kickoff");
      const messages = (await all(bob.chat.getChatThreadClient(id).listMessages())).reverse();
      assert.deepEqual(messages.map((m) => [m.sequenceId, m.type]), [["1", "participantAdded"], ["2", "topicUpdated"]]);
      const [added, topic] = messages as [ChatMessage, ChatMessage];
      assert.deepEqual(added.content?.participants?.map((p) => p.displayName).sort(), ["Alice", "Bob"]);
      assert.deepEqual(added.content?.initiator, { kind: "communicationUser", communicationUserId: alice.id });
      assert.equal(topic.content?.topic, "Kickoff");
      assert.equal(topic.sender, undefined);
    });

    it("the same idempotency token returns the same thread without creating another", async () => {
      const token = randomUUID();
      const first = await alice.chat.createChatThread({ topic: "Once" }, { idempotencyToken: token, participants: [member(bob)] });
      const second = await alice.chat.createChatThread({ topic: "Once" }, { idempotencyToken: token, participants: [member(bob)] });
      assert.equal(second.chatThread!.id, first.chatThread!.id);
      assert.equal(second.chatThread!.createdOn.getTime(), first.chatThread!.createdOn.getTime());
      const mine = (await all(alice.chat.listChatThreads())).filter((t) => t.id === first.chatThread!.id);
      assert.equal(mine.length, 1);
      // Keys belong to their caller: Bob using the same token gets his own thread.
      const bobs = await bob.chat.createChatThread({ topic: "Once" }, { idempotencyToken: token });
      assert.notEqual(bobs.chatThread!.id, first.chatThread!.id);
    });

    it("unknown participants are reported in invalidParticipants, the rest join", async () => {
      const ghost = `8:acs:${randomUUID()}_${randomUUID()}`;
      const created = await alice.chat.createChatThread(
        { topic: "Partial" },
        { participants: [member(bob), { id: { communicationUserId: ghost } }] },
      );
      assert.equal(created.invalidParticipants?.length, 1);
      assert.equal(created.invalidParticipants?.[0]?.target, ghost);
      const ids = (await all(alice.chat.getChatThreadClient(created.chatThread!.id).listParticipants())).map(
        (p) => (p.id as { communicationUserId: string }).communicationUserId,
      );
      assert.deepEqual(ids.sort(), [alice.id, bob.id].sort());
    });

    it("getProperties, updateTopic and updateProperties round-trip", async () => {
      const id = await thread("Old topic");
      const client = alice.chat.getChatThreadClient(id);
      await client.updateTopic("New topic");
      assert.equal((await client.getProperties()).topic, "New topic");
      await client.updateProperties({ metadata: { a: "1" }, retentionPolicy: { kind: "none" } });
      const props = await bob.chat.getChatThreadClient(id).getProperties();
      assert.deepEqual(props.metadata, { a: "1" });
      assert.deepEqual(props.retentionPolicy, { kind: "none" });
      const topics = (await all(client.listMessages())).filter((m) => m.type === "topicUpdated").map((m) => m.content?.topic);
      assert.deepEqual(topics, ["New topic", "Old topic"]);
    });

    it("listChatThreads pages with byPage and resumes from a continuation token", async () => {
      const user = await newUser(server);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await user.chat.createChatThread({ topic: `t${i}` })).chatThread!.id);
      const pages = [];
      for await (const page of user.chat.listChatThreads({ maxPageSize: 2 }).byPage()) pages.push(page);
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
      assert.deepEqual(pages.flat().map((t) => t.id), [...ids].reverse(), "newest created first");
      assert.ok(pages.flat().every((t) => t.lastMessageReceivedOn instanceof Date));

      // The SDK resumes from a stored nextLink passed as continuationToken.
      const token = await firstNextLink(`${server.endpoint}chat/threads?maxPageSize=2&api-version=2025-03-15`, user.token);
      const rest = [];
      for await (const page of user.chat.listChatThreads().byPage({ continuationToken: token })) rest.push(...page);
      assert.deepEqual(rest.map((t) => t.id), [...ids].reverse().slice(2));
    });

    it("listChatThreads filters by startTime (last message time)", async () => {
      const user = await newUser(server);
      const old = (await user.chat.createChatThread({ topic: "old" })).chatThread!.id;
      await new Promise((r) => setTimeout(r, 20));
      const cut = new Date();
      const fresh = (await user.chat.createChatThread({ topic: "fresh" })).chatThread!.id;
      await user.chat.getChatThreadClient(old).sendMessage({ content: "revived" });
      const ids = (await all(user.chat.listChatThreads({ startTime: cut }))).map((t) => t.id).sort();
      assert.deepEqual(ids, [old, fresh].sort());
      const none = await all(user.chat.listChatThreads({ startTime: new Date(Date.now() + 60_000) }));
      assert.equal(none.length, 0);
    });

    it("deleteChatThread: gone for everyone, listed with deletedOn, 404 afterwards", async () => {
      const id = await thread("Doomed");
      await alice.chat.deleteChatThread(id);
      await rejectsWith(bob.chat.getChatThreadClient(id).getProperties(), 404);
      await rejectsWith(bob.chat.getChatThreadClient(id).sendMessage({ content: "hello?" }), 404);
      const listed = (await all(bob.chat.listChatThreads())).find((t) => t.id === id);
      assert.ok(listed?.deletedOn instanceof Date, "a deleted thread is listed with deletedOn");
      await alice.chat.deleteChatThread(id); // deleting again is not an error
    });
  });

  describe("messages", () => {
    it("sendMessage / getMessage: text, html, display name and metadata", async () => {
      const id = await thread();
      const client = alice.chat.getChatThreadClient(id);
      const text = await client.sendMessage({ content: "Hello Bob" }, { senderDisplayName: "Alice", metadata: { hasAttachment: "true", fileId: "42" } });
      const html = await client.sendMessage({ content: "<b>bold</b>" }, { type: "html" });
      const got = await bob.chat.getChatThreadClient(id).getMessage(text.id);
      assert.equal(got.id, text.id);
      assert.equal(got.type, "text");
      assert.equal(got.content?.message, "Hello Bob");
      assert.equal(got.senderDisplayName, "Alice");
      assert.deepEqual(got.metadata, { hasAttachment: "true", fileId: "42" });
      assert.deepEqual(got.sender, { kind: "communicationUser", communicationUserId: alice.id });
      assert.equal(got.sequenceId, "3");
      assert.equal(got.version, got.id);
      assert.ok(Math.abs(got.createdOn.getTime() - Date.now()) < 10_000);
      const gotHtml = await client.getMessage(html.id);
      assert.equal(gotHtml.type, "html");
      assert.equal(gotHtml.content?.message, "<b>bold</b>");
      assert.ok(BigInt(html.id) > BigInt(text.id), "message ids increase");
    });

    it("listMessages: newest first, byPage, continuation token, startTime", async () => {
      const id = await thread();
      const client = alice.chat.getChatThreadClient(id);
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) sent.push((await client.sendMessage({ content: `m${i}` })).id);
      const texts = (await all(client.listMessages())).filter((m) => m.type === "text");
      assert.deepEqual(texts.map((m) => m.id), [...sent].reverse());

      const pages = [];
      for await (const page of client.listMessages({ maxPageSize: 3 }).byPage()) pages.push(page.map((m) => m.sequenceId));
      assert.deepEqual(pages, [["7", "6", "5"], ["4", "3", "2"], ["1"]]);

      const token = await firstNextLink(`${server.endpoint}chat/threads/${encodeURIComponent(id)}/messages?maxPageSize=2&api-version=2025-03-15`, alice.token);
      const resumed = [];
      for await (const page of client.listMessages().byPage({ continuationToken: token })) resumed.push(...page.map((m) => m.sequenceId));
      assert.deepEqual(resumed, ["5", "4", "3", "2", "1"]);

      const third = await client.getMessage(sent[2]!);
      const since = (await all(client.listMessages({ startTime: third.createdOn }))).map((m) => m.id);
      const atOrAfter = [];
      for (const messageId of sent) if ((await client.getMessage(messageId)).createdOn >= third.createdOn) atOrAfter.push(messageId);
      assert.deepEqual(since, atOrAfter.reverse(), "startTime keeps messages created at or after it");
      const future = await all(client.listMessages({ startTime: new Date(Date.now() + 60_000) }));
      assert.equal(future.length, 0);
    });

    it("walking with maxPageSize 1 visits every message exactly once while new ones arrive", async () => {
      const id = await thread();
      const client = alice.chat.getChatThreadClient(id);
      for (let i = 0; i < 10; i++) await client.sendMessage({ content: `before ${i}` });
      const seen: string[] = [];
      let n = 0;
      for await (const page of bob.chat.getChatThreadClient(id).listMessages({ maxPageSize: 1 }).byPage()) {
        assert.equal(page.length, 1);
        seen.push(page[0]!.sequenceId);
        if (n++ % 3 === 0) await client.sendMessage({ content: `during ${n}` });
      }
      assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => String(12 - i)));
    });

    it("updateMessage sets editedOn and a new version; deleteMessage sets deletedOn", async () => {
      const id = await thread();
      const client = alice.chat.getChatThreadClient(id);
      const { id: messageId } = await client.sendMessage({ content: "tpyo" }, { metadata: { v: "1" } });
      await client.updateMessage(messageId, { content: "typo", metadata: { v: "2" } });
      const edited = await bob.chat.getChatThreadClient(id).getMessage(messageId);
      assert.equal(edited.content?.message, "typo");
      assert.deepEqual(edited.metadata, { v: "2" });
      assert.ok(edited.editedOn instanceof Date);
      assert.ok(BigInt(edited.version) > BigInt(edited.id));

      await client.deleteMessage(messageId);
      const deleted = await client.getMessage(messageId);
      assert.ok(deleted.deletedOn instanceof Date);
      const listed = (await all(client.listMessages())).find((m) => m.id === messageId);
      assert.ok(listed?.deletedOn instanceof Date, "deleted messages stay in the history, marked");
      await client.deleteMessage(messageId); // idempotent
      await rejectsWith(client.updateMessage(messageId, { content: "zombie" }), 404);
    });

    it("only the sender can edit or delete a message", async () => {
      const id = await thread();
      const { id: messageId } = await alice.chat.getChatThreadClient(id).sendMessage({ content: "mine" });
      const asBob = bob.chat.getChatThreadClient(id);
      await rejectsWith(asBob.updateMessage(messageId, { content: "hijacked" }), 403);
      await rejectsWith(asBob.deleteMessage(messageId), 403);
      const [system] = (await all(asBob.listMessages())).filter((m) => m.type === "topicUpdated");
      await rejectsWith(alice.chat.getChatThreadClient(id).deleteMessage(system!.id), 403);
    });

    it("rejects oversized messages and metadata with 400", async () => {
      const client = alice.chat.getChatThreadClient(await thread());
      await rejectsWith(client.sendMessage({ content: "x".repeat(28 * 1024 + 1) }), 400);
      await rejectsWith(client.sendMessage({ content: "ok" }, { metadata: { big: "y".repeat(1100) } }), 400);
      await rejectsWith(client.sendMessage({ content: "" }), 400);
      await client.sendMessage({ content: "x".repeat(28 * 1024) });
    });

    it("unknown messages are 404", async () => {
      const client = alice.chat.getChatThreadClient(await thread());
      await rejectsWith(client.getMessage("1234567890123"), 404);
    });
  });

  describe("participants", () => {
    it("addParticipants, listParticipants with paging and skip, system messages", async () => {
      const id = await thread("Team", [member(alice, "Alice")]);
      const client = alice.chat.getChatThreadClient(id);
      const result = await client.addParticipants({ participants: [member(bob, "Bob"), member(carol, "Carol")] });
      assert.equal(result.invalidParticipants, undefined);
      // Adding someone twice changes nothing.
      await client.addParticipants({ participants: [member(bob, "Robert")] });

      const pages = [];
      for await (const page of client.listParticipants({ maxPageSize: 1 }).byPage()) pages.push(page.map((p) => p.displayName));
      assert.deepEqual(pages, [["Alice"], ["Bob"], ["Carol"]]);
      const skipped = await all(client.listParticipants({ skip: 1 }));
      assert.deepEqual(skipped.map((p) => p.displayName), ["Bob", "Carol"]);

      const added = (await all(client.listMessages())).filter((m) => m.type === "participantAdded");
      assert.equal(added.length, 2, "the duplicate add wrote no message");
      assert.deepEqual(added[0]!.content?.participants?.map((p) => p.displayName), ["Bob", "Carol"]);
    });

    it("addParticipants reports unknown users in invalidParticipants", async () => {
      const client = alice.chat.getChatThreadClient(await thread());
      const ghost = `8:acs:${randomUUID()}_${randomUUID()}`;
      const result = await client.addParticipants({ participants: [{ id: { communicationUserId: ghost } }] });
      assert.equal(result.invalidParticipants?.[0]?.target, ghost);
    });

    it("shareHistoryTime limits what a new member sees", async () => {
      const id = await thread("History", [member(alice)]);
      const client = alice.chat.getChatThreadClient(id);
      const { id: early } = await client.sendMessage({ content: "before carol" });
      await new Promise((r) => setTimeout(r, 15));
      const cut = new Date();
      await new Promise((r) => setTimeout(r, 15));
      const { id: late } = await client.sendMessage({ content: "after carol" });
      await client.addParticipants({ participants: [{ ...member(carol), shareHistoryTime: cut }] });
      const asCarol = carol.chat.getChatThreadClient(id);
      const seen = (await all(asCarol.listMessages())).map((m) => m.id);
      assert.ok(seen.includes(late) && !seen.includes(early), `carol saw ${seen.join(",")}`);
      await rejectsWith(asCarol.getMessage(early), 404);
      const shared = (await all(client.listParticipants())).find((p) => (p.id as { communicationUserId: string }).communicationUserId === carol.id);
      assert.equal(shared?.shareHistoryTime?.getTime(), cut.getTime());
    });

    it("removeParticipant: the removed user loses access, history records it", async () => {
      const id = await thread("Leaving", [member(alice), member(bob, "Bob")]);
      const client = alice.chat.getChatThreadClient(id);
      await client.removeParticipant({ communicationUserId: bob.id });
      await rejectsWith(bob.chat.getChatThreadClient(id).getProperties(), 403);
      await rejectsWith(bob.chat.getChatThreadClient(id).sendMessage({ content: "let me in" }), 403);
      assert.ok(!(await all(bob.chat.listChatThreads())).some((t) => t.id === id), "a removed user no longer lists the thread");
      const removed = (await all(client.listMessages())).find((m) => m.type === "participantRemoved");
      assert.equal((removed?.content?.participants?.[0]?.id as { communicationUserId: string }).communicationUserId, bob.id);
      // Re-adding restores access.
      await client.addParticipants({ participants: [member(bob)] });
      await bob.chat.getChatThreadClient(id).getProperties();
    });

    it("enforces 200 participants per request and 250 per thread", async () => {
      const identity = identityClient(server);
      const users = await Promise.all(Array.from({ length: 251 }, () => identity.createUser()));
      const asParticipants = users.map((u) => ({ id: u }));
      const client = alice.chat.getChatThreadClient(await thread("Crowd", [member(alice)]));
      await rejectsWith(client.addParticipants({ participants: asParticipants.slice(0, 201) }), 400);
      await client.addParticipants({ participants: asParticipants.slice(0, 200) });
      await client.addParticipants({ participants: asParticipants.slice(200, 249) }); // 250 with alice
      await rejectsWith(client.addParticipants({ participants: asParticipants.slice(249, 250) }), 400);
      assert.equal((await all(client.listParticipants())).length, 250);
      await rejectsWith(alice.chat.createChatThread({ topic: "too big" }, { participants: asParticipants.slice(0, 201) }), 400);
    });
  });

  describe("typing and read receipts", () => {
    it("sendTypingNotification succeeds (and is throttled client-side)", async () => {
      const client = bob.chat.getChatThreadClient(await thread());
      assert.equal(await client.sendTypingNotification({ senderDisplayName: "Bob" }), true);
      assert.equal(await client.sendTypingNotification(), false, "the SDK throttles to one per 8 s");
    });

    it("sendReadReceipt and listReadReceipts with paging", async () => {
      const id = await thread();
      const client = alice.chat.getChatThreadClient(id);
      const { id: m1 } = await client.sendMessage({ content: "one" });
      const { id: m2 } = await client.sendMessage({ content: "two" });
      await client.sendReadReceipt({ chatMessageId: m2 });
      await bob.chat.getChatThreadClient(id).sendReadReceipt({ chatMessageId: m1 });
      await client.sendReadReceipt({ chatMessageId: m1 }); // older: alice's horizon stays at m2
      const receipts = await all(client.listReadReceipts());
      const bySender = Object.fromEntries(receipts.map((r) => [(r.sender as { communicationUserId: string }).communicationUserId, r]));
      assert.equal(bySender[alice.id]?.chatMessageId, m2);
      assert.equal(bySender[bob.id]?.chatMessageId, m1);
      assert.ok(bySender[bob.id]?.readOn instanceof Date);
      const pages = [];
      for await (const page of client.listReadReceipts({ maxPageSize: 1 }).byPage()) pages.push(page.length);
      assert.deepEqual(pages, [1, 1]);
      assert.equal((await all(client.listReadReceipts({ skip: 1 }))).length, 1);
      await rejectsWith(client.sendReadReceipt({ chatMessageId: "999" }), 404);
    });
  });

  describe("access control", () => {
    it("non-members get 403 on every thread operation", async () => {
      const id = await thread();
      const outsider = carol.chat.getChatThreadClient(id);
      await rejectsWith(outsider.getProperties(), 403);
      await rejectsWith(outsider.sendMessage({ content: "hi" }), 403);
      await rejectsWith(outsider.listMessages().next(), 403);
      await rejectsWith(outsider.listParticipants().next(), 403);
      await rejectsWith(outsider.addParticipants({ participants: [member(carol)] }), 403);
      await rejectsWith(outsider.updateTopic("mine now"), 403);
      await rejectsWith(outsider.sendReadReceipt({ chatMessageId: "1" }), 403);
      await rejectsWith(outsider.listReadReceipts().next(), 403);
      await rejectsWith(carol.chat.deleteChatThread(id), 403);
    });

    it("unknown threads are 404", async () => {
      const client = alice.chat.getChatThreadClient(`19:${randomUUID().replaceAll("-", "")}@thread.v2`);
      await rejectsWith(client.getProperties(), 404);
      await rejectsWith(client.sendMessage({ content: "anyone?" }), 404);
    });

    it("expired, forged and garbage tokens get 401", async () => {
      const secrets = loadOrCreateSecrets(server.dataDir);
      const past = new TokenService(secrets.tokenSecret, { resourceId: secrets.resourceId, clock: () => Date.now() - 2 * 86_400_000 });
      const expired = await past.issue({ userId: alice.id, scopes: ["chat"], epoch: 0, expiresInMinutes: 60 });
      await rejectsWith(chatClient(server, expired.token).listChatThreads().next(), 401);

      const [header, payload, signature] = alice.token.split(".");
      const forged = `${header}.${payload}.${signature!.slice(0, -4)}${signature!.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
      await rejectsWith(chatClient(server, forged).listChatThreads().next(), 401);

      const otherKey = new TokenService(new Uint8Array(32).fill(9), { resourceId: secrets.resourceId, clock: Date.now });
      const foreign = await otherKey.issue({ userId: alice.id, scopes: ["chat"], epoch: 0, expiresInMinutes: 60 });
      await rejectsWith(chatClient(server, foreign.token).listChatThreads().next(), 401);
    });
  });
});
