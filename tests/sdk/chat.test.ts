// @parley/sdk ChatClient and ChatThreadClient against a real Parley: every method, paging, errors.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ChatThreadClient, AzureCommunicationTokenCredential, RestError, type ChatMessage } from "@parley/sdk";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { all, rejectsWith } from "../helpers/assertions.js";
import { participant, sdkChat, sdkIdentity, sdkUser, userKind, type SdkUser } from "./support.js";

describe("@parley/sdk chat", () => {
  let server: TestServer;
  let alice: SdkUser;
  let bob: SdkUser;
  let carol: SdkUser;

  before(async () => {
    server = await startTestServer();
    [alice, bob, carol] = await Promise.all([sdkUser(server), sdkUser(server), sdkUser(server)]);
  });
  after(() => server.close());

  async function thread(topic = "Lunch", participants = [participant(alice, "Alice"), participant(bob, "Bob")]) {
    const created = await alice.chat.createChatThread({ topic }, { participants });
    return created.chatThread!.id;
  }

  describe("ChatClient", () => {
    it("createChatThread returns Date, kinds, metadata and retention policy like the official SDK", async () => {
      const created = await alice.chat.createChatThread(
        { topic: "Planning" },
        { participants: [participant(bob, "Bob")], metadata: { project: "parley" }, retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 40 } },
      );
      const t = created.chatThread!;
      assert.match(t.id, /^19:[0-9a-f]{32}@thread\.v2$/);
      assert.equal(t.topic, "Planning");
      assert.deepEqual(t.createdBy, userKind(alice));
      assert.ok(t.createdOn instanceof Date && Math.abs(t.createdOn.getTime() - Date.now()) < 10_000);
      assert.deepEqual(t.metadata, { project: "parley" });
      assert.deepEqual(t.retentionPolicy, { kind: "threadCreationDate", deleteThreadAfterDays: 40 });
      assert.equal(created.invalidParticipants, undefined);
    });

    it("createChatThread is idempotent per idempotencyToken, and always sends one", async () => {
      const token = randomUUID();
      const first = await alice.chat.createChatThread({ topic: "Once" }, { idempotencyToken: token });
      const second = await alice.chat.createChatThread({ topic: "Once" }, { idempotencyToken: token });
      assert.equal(second.chatThread!.id, first.chatThread!.id);
      const sent: Array<string | null> = [];
      const spy = sdkChat(server, alice.token, "http", {
        fetch: (url, init) => {
          sent.push(new Headers(init.headers).get("repeatability-request-id"));
          return fetch(url, init);
        },
      });
      await spy.createChatThread({ topic: "auto id" });
      assert.match(sent[0] ?? "", /^[0-9a-f-]{36}$/);
    });

    it("invalid participants are reported, the others join", async () => {
      const ghost = `8:acs:${randomUUID()}_${randomUUID()}`;
      const created = await alice.chat.createChatThread({ topic: "Partial" }, { participants: [participant(bob), { id: { communicationUserId: ghost } }] });
      assert.equal(created.invalidParticipants?.length, 1);
      assert.equal(created.invalidParticipants?.[0]?.target, ghost);
      assert.equal(created.invalidParticipants?.[0]?.code, "404");
    });

    it("listChatThreads: items with Dates, byPage with maxPageSize, continuation tokens to resume", async () => {
      const user = await sdkUser(server);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await user.chat.createChatThread({ topic: `t${i}` })).chatThread!.id);
      const items = await all(user.chat.listChatThreads());
      assert.deepEqual(items.map((t) => t.id), [...ids].reverse(), "newest created first");
      assert.ok(items.every((t) => t.lastMessageReceivedOn instanceof Date && t.deletedOn === undefined));

      const pages = await all(user.chat.listChatThreads({ maxPageSize: 2 }).byPage());
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
      assert.deepEqual(pages.flat().map((t) => t.id), [...ids].reverse());
      assert.equal(typeof pages[0]!.continuationToken, "string", "each page but the last exposes its continuation token");
      assert.equal(pages[2]!.continuationToken, undefined);
      assert.deepEqual(Object.keys(pages[0]!), ["0", "1"], "the token does not change what the array looks like");

      // byPage({ maxPageSize }) works too, and a stored token resumes in a new iterator (even another client).
      const firstPage = (await user.chat.listChatThreads().byPage({ maxPageSize: 3 }).next()).value!;
      assert.equal(firstPage.length, 3);
      const other = sdkChat(server, user.token);
      const rest = await all(other.listChatThreads().byPage({ continuationToken: firstPage.continuationToken! }));
      assert.deepEqual(rest.flat().map((t) => t.id), [ids[1], ids[0]]);
    });

    it("listChatThreads startTime filters by last message time", async () => {
      const user = await sdkUser(server);
      const old = (await user.chat.createChatThread({ topic: "old" })).chatThread!.id;
      await new Promise((r) => setTimeout(r, 20));
      const since = new Date();
      await new Promise((r) => setTimeout(r, 20));
      const recent = (await user.chat.createChatThread({ topic: "recent" })).chatThread!.id;
      const listed = (await all(user.chat.listChatThreads({ startTime: since }))).map((t) => t.id);
      assert.deepEqual(listed, [recent]);
      assert.ok(!listed.includes(old));
    });

    it("deleteChatThread hides the thread; a continuation token of another list is refused", async () => {
      const id = await thread("Doomed");
      await alice.chat.deleteChatThread(id);
      await rejectsWith(alice.chat.getChatThreadClient(id).getProperties(), 404);
      await assert.rejects(alice.chat.deleteChatThread(""), /threadId cannot be null or empty/);
      const other = await thread("Tokens");
      const messagesToken = (await alice.chat.getChatThreadClient(other).listMessages({ maxPageSize: 1 }).byPage().next()).value!.continuationToken!;
      await assert.rejects(all(alice.chat.listChatThreads().byPage({ continuationToken: messagesToken })), /different list/);
      await assert.rejects(all(alice.chat.listChatThreads().byPage({ continuationToken: "https://elsewhere.example/chat/threads" })), /Refusing to send credentials/);
    });
  });

  describe("ChatThreadClient", () => {
    it("is constructible directly (endpoint, threadId, credential, options) with threadId", async () => {
      const id = await thread("Direct");
      const client = new ChatThreadClient(server.httpEndpoint, id, new AzureCommunicationTokenCredential(bob.token));
      assert.equal(client.threadId, id);
      assert.equal((await client.getProperties()).topic, "Direct");
    });

    it("getProperties, updateTopic and updateProperties round-trip", async () => {
      const id = await thread("Old topic");
      const client = alice.chat.getChatThreadClient(id);
      await client.updateTopic("New topic");
      const props = await client.getProperties();
      assert.equal(props.topic, "New topic");
      assert.ok(props.createdOn instanceof Date);
      assert.deepEqual(props.createdBy, userKind(alice));
      await client.updateProperties({ metadata: { a: "1" }, retentionPolicy: { kind: "none" } });
      const updated = await bob.chat.getChatThreadClient(id).getProperties();
      assert.deepEqual(updated.metadata, { a: "1" });
      assert.deepEqual(updated.retentionPolicy, { kind: "none" });
      await client.updateProperties({ topic: "Third" });
      const topics = (await all(client.listMessages())).filter((m) => m.type === "topicUpdated").map((m) => m.content?.topic);
      assert.deepEqual(topics, ["Third", "New topic", "Old topic"]);
    });

    it("sendMessage, getMessage, updateMessage, deleteMessage: Dates, sender kind, metadata, html", async () => {
      const id = await thread("Messages");
      const asAlice = alice.chat.getChatThreadClient(id);
      const { id: messageId } = await asAlice.sendMessage({ content: "hello" }, { senderDisplayName: "Alice", metadata: { k: "v" } });
      const message = await bob.chat.getChatThreadClient(id).getMessage(messageId);
      assert.equal(message.id, messageId);
      assert.equal(message.type, "text");
      assert.equal(message.content?.message, "hello");
      assert.equal(message.senderDisplayName, "Alice");
      assert.deepEqual(message.sender, userKind(alice));
      assert.deepEqual(message.metadata, { k: "v" });
      assert.ok(message.createdOn instanceof Date);
      assert.equal(message.editedOn, undefined);

      await asAlice.updateMessage(messageId, { content: "hello, edited", metadata: { k: "w" } });
      const edited = await asAlice.getMessage(messageId);
      assert.equal(edited.content?.message, "hello, edited");
      assert.deepEqual(edited.metadata, { k: "w" });
      assert.ok(edited.editedOn instanceof Date);
      assert.notEqual(edited.version, message.version);

      await asAlice.deleteMessage(messageId);
      const deleted = await asAlice.getMessage(messageId);
      assert.ok(deleted.deletedOn instanceof Date);

      const { id: htmlId } = await asAlice.sendMessage({ content: "<b>bold</b>" }, { type: "html" });
      assert.equal((await asAlice.getMessage(htmlId)).type, "html");
    });

    it("listMessages: system messages with participants and initiator kinds, paging, tokens, startTime", async () => {
      const id = await thread("History");
      const client = alice.chat.getChatThreadClient(id);
      const since = new Date();
      for (let i = 0; i < 4; i++) await client.sendMessage({ content: `m${i}` });
      const messages = (await all(bob.chat.getChatThreadClient(id).listMessages())).reverse();
      assert.deepEqual(messages.map((m) => m.type), ["participantAdded", "topicUpdated", "text", "text", "text", "text"]);
      const [added] = messages as [ChatMessage];
      assert.deepEqual(added.content?.participants?.map((p) => p.displayName).sort(), ["Alice", "Bob"]);
      assert.ok(added.content?.participants?.every((p) => (p.id as { kind?: string }).kind === "communicationUser"));
      assert.deepEqual(added.content?.initiator, userKind(alice));

      const pages = await all(client.listMessages({ maxPageSize: 4 }).byPage());
      assert.deepEqual(pages.map((p) => p.length), [4, 2]);
      const resumed = await all(client.listMessages().byPage({ continuationToken: pages[0]!.continuationToken! }));
      assert.deepEqual(resumed.flat().map((m) => m.sequenceId), ["2", "1"]);

      const recent = await all(client.listMessages({ startTime: since }));
      assert.deepEqual(recent.map((m) => m.content?.message), ["m3", "m2", "m1", "m0"]);
    });

    it("addParticipants (with shareHistoryTime), listParticipants with skip and paging, removeParticipant", async () => {
      const id = await thread("Roster", [participant(alice, "Alice")]);
      const client = alice.chat.getChatThreadClient(id);
      const shareHistoryTime = new Date(Date.now() - 60_000);
      const result = await client.addParticipants({ participants: [{ ...participant(bob, "Bob"), shareHistoryTime, metadata: { role: "guest" } }, participant(carol, "Carol")] });
      assert.deepEqual(result, {});
      const everyone = await all(client.listParticipants());
      assert.deepEqual(everyone.map((p) => p.displayName), ["Alice", "Bob", "Carol"]);
      const bobEntry = everyone[1]!;
      assert.deepEqual(bobEntry.id, userKind(bob));
      assert.ok(bobEntry.shareHistoryTime instanceof Date);
      assert.equal(bobEntry.shareHistoryTime.toISOString(), shareHistoryTime.toISOString());
      assert.deepEqual(bobEntry.metadata, { role: "guest" });

      assert.deepEqual((await all(client.listParticipants({ skip: 1 }))).map((p) => p.displayName), ["Bob", "Carol"]);
      const pages = await all(client.listParticipants({ maxPageSize: 2 }).byPage());
      assert.deepEqual(pages.map((p) => p.length), [2, 1]);
      assert.deepEqual((await all(client.listParticipants().byPage({ continuationToken: pages[0]!.continuationToken! }))).flat().map((p) => p.displayName), ["Carol"]);

      const ghost = `8:acs:${randomUUID()}_${randomUUID()}`;
      const partial = await client.addParticipants({ participants: [{ id: { communicationUserId: ghost } }] });
      assert.equal(partial.invalidParticipants?.[0]?.target, ghost);

      await client.removeParticipant({ communicationUserId: carol.id });
      await client.removeParticipant({ communicationUserId: carol.id }); // a no-op the second time
      assert.deepEqual((await all(client.listParticipants())).map((p) => p.displayName), ["Alice", "Bob"]);
      await rejectsWith(carol.chat.getChatThreadClient(id).getProperties(), 403);
    });

    it("sendReadReceipt and listReadReceipts (Dates, kinds, skip, paging)", async () => {
      const id = await thread("Receipts", [participant(alice), participant(bob), participant(carol)]);
      const { id: messageId } = await alice.chat.getChatThreadClient(id).sendMessage({ content: "read me" });
      for (const user of [alice, bob, carol]) await user.chat.getChatThreadClient(id).sendReadReceipt({ chatMessageId: messageId });
      const receipts = await all(bob.chat.getChatThreadClient(id).listReadReceipts());
      assert.equal(receipts.length, 3);
      assert.ok(receipts.every((r) => r.chatMessageId === messageId && r.readOn instanceof Date));
      assert.deepEqual(receipts.map((r) => r.sender), [userKind(alice), userKind(bob), userKind(carol)]);
      assert.equal((await all(bob.chat.getChatThreadClient(id).listReadReceipts({ skip: 2 }))).length, 1);
      assert.deepEqual((await all(bob.chat.getChatThreadClient(id).listReadReceipts({ maxPageSize: 2 }).byPage())).map((p) => p.length), [2, 1]);
    });

    it("sendTypingNotification is throttled to one per 8 s per client, reset by sendMessage", async () => {
      const id = await thread("Typing");
      const client = bob.chat.getChatThreadClient(id);
      assert.equal(await client.sendTypingNotification({ senderDisplayName: "Bob" }), true);
      assert.equal(await client.sendTypingNotification(), false, "inside the 8 s window nothing is sent");
      await client.sendMessage({ content: "done typing" });
      assert.equal(await client.sendTypingNotification(), true, "sending a message resets the throttle");
      assert.equal(await bob.chat.getChatThreadClient(id).sendTypingNotification(), true, "the throttle is per client");
    });
  });

  describe("errors map to RestError", () => {
    it("401 for a bad or missing token, 403 for non-members, 404 for unknown ids, 400 for bad input", async () => {
      const id = await thread("Errors");
      const bogus = sdkChat(server, alice.token.replace(/.{8}$/, "AAAAAAAA"));
      const unauthorized = await rejectsWith(bogus.createChatThread({ topic: "x" }), 401);
      assert.ok(unauthorized instanceof RestError);
      assert.ok(unauthorized.code);

      const forbidden = await rejectsWith(carol.chat.getChatThreadClient(id).getProperties(), 403, "Forbidden");
      assert.match(forbidden.message, /\S/);

      await rejectsWith(alice.chat.getChatThreadClient(id).getMessage("12345"), 404, "NotFound");
      await rejectsWith(alice.chat.getChatThreadClient("19:00000000000000000000000000000000@thread.v2").getProperties(), 404);

      const tooBig = await rejectsWith(alice.chat.getChatThreadClient(id).sendMessage({ content: "x".repeat(29 * 1024) }), 400);
      assert.equal(tooBig.code, "MessageSizeExceeded");
      await rejectsWith(alice.chat.createChatThread({ topic: "" }), 400);
      await rejectsWith(alice.chat.getChatThreadClient(id).listMessages({ maxPageSize: 500 }).next(), 400);
    });

    it("a user whose scopes forbid an operation gets 403", async () => {
      const { token } = await sdkIdentity(server).createUserAndToken(["chat.join"]);
      await rejectsWith(sdkChat(server, token).createChatThread({ topic: "not allowed" }), 403);
    });
  });

  describe("plain http (the official chat SDK refuses it)", () => {
    it("every kind of call works against Parley's http endpoint", async () => {
      const a = await sdkUser(server, "http");
      const b = await sdkUser(server, "http");
      const { chatThread } = await a.chat.createChatThread({ topic: "over http" }, { participants: [participant(b, "B")] });
      const asA = a.chat.getChatThreadClient(chatThread!.id);
      const { id } = await asA.sendMessage({ content: "plain" });
      await b.chat.getChatThreadClient(chatThread!.id).sendReadReceipt({ chatMessageId: id });
      assert.equal((await b.chat.getChatThreadClient(chatThread!.id).getMessage(id)).content?.message, "plain");
      assert.equal((await all(asA.listReadReceipts())).length, 1);
      assert.deepEqual((await all(b.chat.listChatThreads())).map((t) => t.topic), ["over http"]);
    });
  });

  describe("operation options", () => {
    it("abortSignal cancels a call with REQUEST_ABORTED_ERROR; requestOptions.customHeaders are sent", async () => {
      const id = await thread("Options");
      const controller = new AbortController();
      controller.abort();
      const aborted = (await alice.chat.getChatThreadClient(id).getProperties({ abortSignal: controller.signal }).catch((e) => e)) as RestError;
      assert.equal(aborted.code, RestError.REQUEST_ABORTED_ERROR);

      let seen: string | null = null;
      const client = sdkChat(server, alice.token, "http", { fetch: (url, init) => ((seen = new Headers(init.headers).get("x-trace")), fetch(url, init)) });
      await client.getChatThreadClient(id).getProperties({ requestOptions: { customHeaders: { "x-trace": "abc" } } });
      assert.equal(seen, "abc");
    });
  });
});
