// Per-user event logs and the change feed: the same contract on every Store driver.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MemoryStore, openSqliteStore, type Store } from "@parley/server";

const resource = randomUUID();
const userId = () => `8:acs:${resource}_${randomUUID()}`;
const threadId = () => `19:${randomUUID().replaceAll("-", "")}@thread.v2`;

async function withUsers(store: Store, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, userId);
  for (const id of ids) await store.createUser({ id, createdAt: 1, tokenEpoch: 0 });
  return ids;
}

function eventLogContract(name: string, open: () => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`event logs on ${name}`, () => {
    const scenario = async (body: (store: Store) => Promise<void>) => {
      const { store, cleanup } = await open();
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    };

    it("every write appends one event per recipient, in order, with consecutive seqs", () =>
      scenario(async (store) => {
        const [a, b, c] = await withUsers(store, 3);
        const t = threadId();
        await store.createThread({ thread: { id: t, topic: "x", createdAt: 10, createdBy: a!, participants: [{ userId: a!, shareHistoryTime: 0 }, { userId: b!, shareHistoryTime: 0 }] } });
        const sent = await store.sendMessage({ threadId: t, senderId: a!, type: "text", content: "hi", at: 11 });
        assert.ok(!("failure" in sent));
        await store.updateMessage(t, sent.id, a!, { content: "hi!" }, 12);
        await store.deleteMessage(t, sent.id, a!, 13);
        await store.deleteMessage(t, sent.id, a!, 14); // already deleted: no second event
        await store.updateThread(t, a!, { topic: "y" }, 15);
        await store.addParticipants(t, a!, [{ userId: c!, shareHistoryTime: 0 }], { at: 16, limit: 250 });
        await store.removeParticipant(t, a!, c!, 17);
        await store.deleteThread(t, a!, 18);

        const names = ["chatThreadCreated", "chatMessageReceived", "chatMessageEdited", "chatMessageDeleted", "chatThreadPropertiesUpdated", "participantsAdded", "participantsRemoved", "chatThreadDeleted"];
        for (const user of [a!, b!]) {
          const log = await store.readEvents(user, 0, 100);
          assert.deepEqual(log.map((e) => e.name), names);
          assert.deepEqual(log.map((e) => e.seq), names.map((_, i) => i + 1));
          assert.ok(log.every((e) => e.threadId === t && e.userId === user));
          assert.deepEqual(await store.eventBounds(user), { latest: names.length, pruned: 0 });
        }
        const carol = await store.readEvents(c!, 0, 100);
        assert.deepEqual(carol.map((e) => e.name), ["participantsAdded", "participantsRemoved"], "the removed user hears the removal");

        const log = await store.readEvents(b!, 0, 100);
        assert.equal(log[1]!.data.message?.content.message, "hi");
        assert.equal(log[2]!.data.message?.content.message, "hi!");
        assert.equal(log[3]!.data.message?.deletedAt, 13);
        assert.equal(log[4]!.data.thread?.topic, "y");
        assert.equal(log[4]!.data.actor?.userId, a);
        assert.deepEqual(log[5]!.data.participants?.map((p) => p.userId), [c]);
        assert.equal(log[0]!.data.participants?.length, 2);
      }));

    it("readEvents pages by seq; failed writes append nothing", () =>
      scenario(async (store) => {
        const [a, b, outsider] = await withUsers(store, 3);
        const t = threadId();
        await store.createThread({ thread: { id: t, topic: "x", createdAt: 1, createdBy: a!, participants: [{ userId: a!, shareHistoryTime: 0 }, { userId: b!, shareHistoryTime: 0 }] } });
        for (let i = 0; i < 10; i++) await store.sendMessage({ threadId: t, senderId: a!, type: "text", content: `m${i}`, at: 2 + i });
        const refused = await store.sendMessage({ threadId: t, senderId: outsider!, type: "text", content: "nope", at: 50 });
        assert.ok("failure" in refused);
        const page1 = await store.readEvents(b!, 0, 4);
        const page2 = await store.readEvents(b!, page1.at(-1)!.seq, 100);
        assert.deepEqual([...page1, ...page2].map((e) => e.seq), Array.from({ length: 11 }, (_, i) => i + 1));
        assert.deepEqual(await store.readEvents(outsider!, 0, 10), []);
      }));

    it("the change feed has each change once with its recipients, in commit order", () =>
      scenario(async (store) => {
        const [a, b] = await withUsers(store, 2);
        const t = threadId();
        await store.createThread({ thread: { id: t, topic: "x", createdAt: 1, createdBy: a!, participants: [{ userId: a!, shareHistoryTime: 0 }, { userId: b!, shareHistoryTime: 0 }] } });
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.sendMessage({ threadId: t, senderId: a!, type: "text", content: `m${i}`, at: 2 })));
        const feed = await store.readChanges(0, 1000);
        assert.equal(feed.length, 21);
        assert.deepEqual(feed.map((c) => c.seq), [...feed.map((c) => c.seq)].sort((x, y) => x - y));
        assert.deepEqual(new Set(feed[0]!.recipients), new Set([a, b]));
        const sequenceIds = feed.slice(1).map((c) => c.data.message!.sequenceId);
        assert.deepEqual(sequenceIds, [...sequenceIds].sort((x, y) => x - y), "feed order is commit order");
        assert.deepEqual((await store.readChanges(feed[9]!.seq, 1000)).length, 11);
      }));

    it("commit listeners hear which logs grew, after the write resolved", () =>
      scenario(async (store) => {
        const [a, b] = await withUsers(store, 2);
        const heard: string[][] = [];
        const stop = store.onEventsCommitted(({ userIds }) => heard.push(userIds));
        const t = threadId();
        await store.createThread({ thread: { id: t, topic: "x", createdAt: 1, createdBy: a!, participants: [{ userId: a!, shareHistoryTime: 0 }, { userId: b!, shareHistoryTime: 0 }] } });
        await new Promise((r) => setImmediate(r));
        assert.ok(heard.some((users) => users.includes(a!) && users.includes(b!)));
        stop();
        const before = heard.length;
        await store.sendMessage({ threadId: t, senderId: a!, type: "text", content: "m", at: 2 });
        await new Promise((r) => setImmediate(r));
        assert.equal(heard.length, before, "unsubscribed listeners hear nothing");
      }));

    it("expireThreads deletes threads whose retention policy ran out, once, with an event", () =>
      scenario(async (store) => {
        const [a, b] = await withUsers(store, 2);
        const day = 86_400_000;
        const members = [{ userId: a!, shareHistoryTime: 0 }, { userId: b!, shareHistoryTime: 0 }];
        const short = threadId();
        const long = threadId();
        const forever = threadId();
        await store.createThread({ thread: { id: short, topic: "s", createdAt: 0, createdBy: a!, participants: members, retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 30 } } });
        await store.createThread({ thread: { id: long, topic: "l", createdAt: 0, createdBy: a!, participants: members, retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 90 } } });
        await store.createThread({ thread: { id: forever, topic: "f", createdAt: 0, createdBy: a!, participants: members, retentionPolicy: { kind: "none" } } });
        assert.deepEqual(await store.expireThreads(30 * day - 1), []);
        assert.deepEqual(await store.expireThreads(30 * day), [short]);
        assert.deepEqual(await store.expireThreads(31 * day), [], "an expired thread is deleted once");
        assert.equal((await store.getThread(short))?.deletedAt, 30 * day);
        assert.equal((await store.getThread(long))?.deletedAt, undefined);
        const last = (await store.readEvents(b!, 0, 100)).at(-1)!;
        assert.equal(last.name, "chatThreadDeleted");
        assert.equal(last.threadId, short);
        assert.equal(last.data.actor, undefined, "no user deleted it");
        assert.deepEqual(await store.expireThreads(1000 * day), [long]);
      }));

    it("pruning drops old events, records how far, and keeps newer ones", () =>
      scenario(async (store) => {
        const [a] = await withUsers(store, 1);
        const t = threadId();
        await store.createThread({ thread: { id: t, topic: "x", createdAt: 100, createdBy: a!, participants: [{ userId: a!, shareHistoryTime: 0 }] } });
        for (let i = 0; i < 5; i++) await store.sendMessage({ threadId: t, senderId: a!, type: "text", content: `m${i}`, at: 200 + i * 100 });
        const pruned = await store.pruneEvents(450);
        assert.ok(pruned >= 4);
        assert.deepEqual(await store.eventBounds(a!), { latest: 6, pruned: 4 });
        assert.deepEqual((await store.readEvents(a!, 0, 100)).map((e) => e.seq), [5, 6]);
        assert.ok((await store.readChanges(0, 100)).every((c) => c.at >= 450));
      }));
  });
}

eventLogContract("memory", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
eventLogContract("sqlite", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-events-"));
  const store = openSqliteStore({ path: path.join(dir, "parley.db") });
  return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
});

describe("event logs survive a restart (sqlite)", () => {
  it("seqs continue after reopening", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-events-"));
    const file = path.join(dir, "parley.db");
    try {
      let store = openSqliteStore({ path: file });
      const [a] = await withUsers(store, 1);
      const t = threadId();
      await store.createThread({ thread: { id: t, topic: "x", createdAt: 1, createdBy: a!, participants: [{ userId: a!, shareHistoryTime: 0 }] } });
      await store.close();
      store = openSqliteStore({ path: file });
      await store.sendMessage({ threadId: t, senderId: a!, type: "text", content: "after", at: 2 });
      assert.deepEqual((await store.readEvents(a!, 0, 10)).map((e) => [e.seq, e.name]), [[1, "chatThreadCreated"], [2, "chatMessageReceived"]]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
