// Event streams (the change feed read through each user's memberships) and the feed itself: the
// same contract on every Store driver.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { MemoryStore, openSqliteStore, SQLITE_MIGRATIONS, type Store } from "@parley/server";

const resource = randomUUID();
const userId = () => `8:acs:${resource}_${randomUUID()}`;
const threadId = () => `19:${randomUUID().replaceAll("-", "")}@thread.v2`;

async function withUsers(store: Store, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, userId);
  for (const id of ids) await store.createUser({ id, createdAt: 1, tokenEpoch: 0 });
  return ids;
}

function eventLogContract(name: string, open: () => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`event streams on ${name}`, () => {
    const scenario = async (body: (store: Store) => Promise<void>) => {
      const { store, cleanup } = await open();
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    };

    it("every write appends one event to each member's stream, in order", () =>
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
        assert.deepEqual(carol.map((e) => [e.seq, e.name]), [[6, "participantsAdded"], [7, "participantsRemoved"]], "the removed user hears the removal, then nothing");

        const log = await store.readEvents(b!, 0, 100);
        assert.equal(log[1]!.data.message?.content.message, "hi");
        assert.equal(log[2]!.data.message?.content.message, "hi!");
        assert.equal(log[3]!.data.message?.deletedAt, 13);
        assert.equal(log[4]!.data.thread?.topic, "y");
        assert.equal(log[4]!.data.actor?.userId, a);
        assert.deepEqual(log[5]!.data.participants?.map((p) => p.userId), [c]);
        assert.equal(log[0]!.data.participants?.length, 2);
      }));

    it("a stream follows the user's memberships: nothing before joining or after leaving, other threads' events are gaps", () =>
      scenario(async (store) => {
        const [a, b, c] = await withUsers(store, 3);
        const one = threadId();
        const two = threadId();
        const member = (userId: string) => ({ userId, shareHistoryTime: 0 });
        const say = (t: string, content: string, at: number) => store.sendMessage({ threadId: t, senderId: a!, type: "text", content, at });
        await store.createThread({ thread: { id: one, topic: "one", createdAt: 1, createdBy: a!, participants: [member(a!)] } }); // 1
        await store.createThread({ thread: { id: two, topic: "two", createdAt: 1, createdBy: a!, participants: [member(a!), member(c!)] } }); // 2
        await say(one, "before b", 2); // 3
        await say(two, "for c", 3); // 4
        await store.addParticipants(one, a!, [member(b!)], { at: 4, limit: 250 }); // 5
        await say(one, "b is in", 5); // 6
        await store.removeParticipant(one, a!, b!, 6); // 7
        await say(one, "b is out", 7); // 8
        await store.addParticipants(one, a!, [member(b!)], { at: 8, limit: 250 }); // 9
        await say(one, "b is back", 9); // 10

        const stream = async (user: string, after = 0) => (await store.readEvents(user, after, 100)).map((e) => [e.seq, e.name, e.data.message?.content.message ?? e.threadId]);
        assert.deepEqual(await stream(b!), [
          [5, "participantsAdded", one],
          [6, "chatMessageReceived", "b is in"],
          [7, "participantsRemoved", one],
          [9, "participantsAdded", one],
          [10, "chatMessageReceived", "b is back"],
        ]);
        assert.deepEqual(await stream(b!, 7), [[9, "participantsAdded", one], [10, "chatMessageReceived", "b is back"]], "a cursor inside a gap");
        assert.deepEqual(await stream(c!), [[2, "chatThreadCreated", two], [4, "chatMessageReceived", "for c"]]);
        assert.equal((await store.readEvents(a!, 0, 100)).length, 10, "the creator saw everything");
        const seqs = (await store.readEvents(a!, 0, 100)).map((e) => e.seq);
        assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));

        // Webhooks send one event per recipient: the feed names the members as they were then.
        const feed = await store.readChanges(0, 100);
        const recipients = (seq: number) => new Set(feed.find((c) => c.seq === seq)!.recipients);
        assert.deepEqual(recipients(3), new Set([a]));
        assert.deepEqual(recipients(6), new Set([a, b]));
        assert.deepEqual(recipients(7), new Set([a, b]), "the removed member gets their removal");
        assert.deepEqual(recipients(8), new Set([a]));
        assert.deepEqual(recipients(10), new Set([a, b]));
        assert.deepEqual(recipients(4), new Set([a, c]));
      }));

    it("a stream reads the same across long stretches of other threads' events, in any batch size", () =>
      scenario(async (store) => {
        const [a, b] = await withUsers(store, 2);
        const shared = threadId();
        const busy = threadId();
        const member = (userId: string) => ({ userId, shareHistoryTime: 0 });
        await store.createThread({ thread: { id: shared, topic: "shared", createdAt: 1, createdBy: a!, participants: [member(a!), member(b!)] } });
        await store.createThread({ thread: { id: busy, topic: "busy", createdAt: 1, createdBy: a!, participants: [member(a!)] } });
        const say = (t: string, content: string) => store.sendMessage({ threadId: t, senderId: a!, type: "text", content, at: 2 });
        const chatter = async (n: number) => {
          for (let i = 0; i < n; i += 1_000) await Promise.all(Array.from({ length: Math.min(1_000, n - i) }, (_, k) => say(busy, `noise ${i + k}`)));
        };
        await say(shared, "one");
        await chatter(10_000); // more than one read window of feed seqs
        await say(shared, "two");
        await chatter(3);
        await say(shared, "three");

        const texts = (events: Awaited<ReturnType<Store["readEvents"]>>) => events.map((e) => e.data.message?.content.message ?? e.name);
        const all = await store.readEvents(b!, 0, 100);
        assert.deepEqual(texts(all), ["chatThreadCreated", "one", "two", "three"]);
        const firstTwo = await store.readEvents(b!, 0, 2);
        assert.deepEqual(texts(firstTwo), ["chatThreadCreated", "one"]);
        assert.deepEqual(texts(await store.readEvents(b!, firstTwo[1]!.seq, 2)), ["two", "three"]);
        assert.deepEqual(await store.readEvents(b!, all.at(-1)!.seq, 10), []);
        // The creator's stream has everything: a batch of 300 from the middle is 300 in a row.
        const mine = await store.readEvents(a!, all[1]!.seq, 300);
        assert.equal(mine.length, 300);
        assert.deepEqual(mine.map((e) => e.seq), mine.map((_, i) => all[1]!.seq + 1 + i));
      }));

    it("pruning forgets ended memberships with the changes they covered", () =>
      scenario(async (store) => {
        const [a, b] = await withUsers(store, 2);
        const t = threadId();
        await store.createThread({ thread: { id: t, topic: "x", createdAt: 100, createdBy: a!, participants: [{ userId: a!, shareHistoryTime: 0 }, { userId: b!, shareHistoryTime: 0 }] } });
        await store.removeParticipant(t, a!, b!, 200);
        await store.sendMessage({ threadId: t, senderId: a!, type: "text", content: "later", at: 300 });
        await store.pruneEvents(250);
        assert.deepEqual(await store.eventBounds(b!), { latest: 3, pruned: 2 });
        assert.deepEqual(await store.readEvents(b!, 2, 100), [], "b left at seq 2");
        assert.deepEqual((await store.readEvents(a!, 2, 100)).map((e) => e.seq), [3]);
        await store.addParticipants(t, a!, [{ userId: b!, shareHistoryTime: 0 }], { at: 400, limit: 250 });
        assert.deepEqual((await store.readEvents(b!, 2, 100)).map((e) => e.name), ["participantsAdded"], "and can come back");
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
        assert.equal(await store.pruneEvents(450), 4);
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

describe("event streams survive a restart (sqlite)", () => {
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

describe("upgrading a database that had per-user event logs (sqlite, migration 5)", () => {
  it("old cursors get a resync, new seqs start above them, and today's members receive what follows", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-events-"));
    const file = path.join(dir, "parley.db");
    try {
      // A database as Parley left it at schema 4: per-user seqs up to 7, one change in the feed.
      const old = new Database(file);
      for (const [i, step] of SQLITE_MIGRATIONS.slice(0, 4).entries()) {
        old.exec(step);
        old.pragma(`user_version = ${i + 1}`);
      }
      const [a, b] = [userId(), userId()];
      const t = threadId();
      old.prepare("INSERT INTO users (id, created_at, event_seq) VALUES (?, 1, 7), (?, 1, 3)").run(a, b);
      old.prepare("INSERT INTO threads (id, topic, created_at, created_by, last_message_at) VALUES (?, 'x', 1, ?, 1)").run(t, a);
      old.prepare("INSERT INTO participants (thread_ord, user_id, share_history_time) VALUES (1, ?, 0), (1, ?, 0)").run(a, b);
      old.prepare("INSERT INTO user_events (user_id, seq, name, thread_id, data, at) VALUES (?, 7, 'chatThreadCreated', ?, '{}', 1)").run(a, t);
      old.prepare("INSERT INTO changes (name, thread_id, data, recipients, at) VALUES ('chatThreadCreated', ?, '{}', ?, 1)").run(t, JSON.stringify([a, b]));
      old.close();

      const store = openSqliteStore({ path: file });
      try {
        assert.deepEqual(await store.eventBounds(a), { latest: 8, pruned: 8 }, "every old cursor (≤ 7) is below pruned");
        const sent = await store.sendMessage({ threadId: t, senderId: b, type: "text", content: "after the upgrade", at: 2 });
        assert.ok(!("failure" in sent));
        for (const user of [a, b]) assert.deepEqual((await store.readEvents(user, 8, 10)).map((e) => [e.seq, e.data.message?.content.message]), [[9, "after the upgrade"]]);
        const feed = await store.readChanges(0, 10);
        assert.deepEqual(feed.map((c) => [c.seq, [...c.recipients].sort()]), [[1, [a, b].sort()], [9, [a, b].sort()]], "old changes keep their stored recipients");
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
