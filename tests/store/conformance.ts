// The Store contract (packages/server/src/store/store.ts), written once and run against every driver.
// Each test gets a fresh store from the factory and cleans it up afterwards. Times are explicit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import type { EventsCommitted, MessageRecord, ParticipantRecord, Store } from "@parley/server";
import {
  failed,
  history,
  member,
  newThreadId,
  newUserId,
  numeric,
  ok,
  plain,
  seedThread,
  seedUsers,
  send,
  type StoreFactory,
} from "./fixtures.js";

const DAY = 86_400_000;
const ALL_TIME = Number.MIN_SAFE_INTEGER;

export function storeConformance(name: string, makeStore: StoreFactory): void {
  /** One test on a fresh store, cleaned up whatever happens. */
  const test = (title: string, body: (store: Store) => Promise<void>) =>
    it(title, async () => {
      const { store, cleanup } = await makeStore();
      try {
        await body(store);
      } finally {
        await cleanup();
      }
    });

  describe(`Store conformance: ${name}`, () => {
    // ---------------------------------------------------------------------------------------------
    describe("users", () => {
      test("createUser then getUser returns the user; unknown ids are undefined", async (store) => {
        const id = newUserId();
        await store.createUser({ id, createdAt: 123, tokenEpoch: 0 });
        assert.deepEqual(plain(await store.getUser(id)), { id, createdAt: 123, tokenEpoch: 0 });
        assert.equal(await store.getUser(newUserId()), undefined);
      });

      test("revokeTokens bumps the token epoch by one each time and returns the updated user", async (store) => {
        const [id] = await seedUsers(store, 1, 50);
        const once = await store.revokeTokens(id!);
        assert.deepEqual(plain(once), { id, createdAt: 50, tokenEpoch: 1 });
        const twice = await store.revokeTokens(id!);
        assert.equal(twice?.tokenEpoch, 2);
        assert.equal((await store.getUser(id!))?.tokenEpoch, 2, "the bump is stored");
      });

      test("revokeTokens of an unknown user returns undefined and creates nothing", async (store) => {
        const id = newUserId();
        assert.equal(await store.revokeTokens(id), undefined);
        assert.equal(await store.getUser(id), undefined);
      });

      test("deleteUser marks the user deleted; a deleted user cannot be deleted or revoked again", async (store) => {
        const [id, other] = await seedUsers(store, 2, 10);
        await store.revokeTokens(id!);
        assert.equal(await store.deleteUser(id!, 500), true);
        const deleted = await store.getUser(id!);
        assert.equal(deleted?.deletedAt, 500);
        assert.equal(deleted?.createdAt, 10);
        assert.ok(deleted!.tokenEpoch >= 1, "the epoch never goes back");
        const epochAfterDelete = deleted!.tokenEpoch;

        assert.equal(await store.deleteUser(id!, 600), false, "second delete");
        assert.equal(await store.revokeTokens(id!), undefined, "revoke after delete");
        const still = await store.getUser(id!);
        assert.equal(still?.deletedAt, 500, "the first deletion time stays");
        assert.equal(still?.tokenEpoch, epochAfterDelete, "a refused revoke changes nothing");

        assert.equal(await store.deleteUser(newUserId(), 500), false, "unknown user");
        assert.equal((await store.getUser(other!))?.deletedAt, undefined, "other users are untouched");
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("createThread", () => {
      test("returns the thread record, readable with getThread", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const id = newThreadId();
        const outcome = await store.createThread({
          thread: {
            id,
            topic: "Planning",
            createdAt: 5_000,
            createdBy: a!,
            metadata: { k: "v" },
            retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 30 },
            participants: [member(a!), member(b!)],
          },
        });
        assert.ok("created" in outcome, "created");
        const created = outcome.created;
        assert.equal(created.id, id);
        assert.equal(created.topic, "Planning");
        assert.equal(created.createdAt, 5_000);
        assert.equal(created.createdBy, a);
        assert.deepEqual(created.metadata, { k: "v" });
        assert.deepEqual(created.retentionPolicy, { kind: "threadCreationDate", deleteThreadAfterDays: 30 });
        assert.equal(created.deletedAt, undefined);
        assert.equal(created.lastMessageAt, 5_000, "the system messages are written at creation time");
        assert.equal(typeof created.order, "number");
        assert.deepEqual(plain(await store.getThread(id)), plain(created));
        assert.equal(await store.getThread(newThreadId()), undefined);
      });

      test("a thread without metadata or retention policy has neither", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!]);
        const read = await store.getThread(t.id);
        assert.equal(read?.metadata, undefined);
        assert.equal(read?.retentionPolicy, undefined);
      });

      test("writes participantAdded (sequenceId 1, all participants) then topicUpdated (sequenceId 2)", async (store) => {
        const [a, b, c] = await seedUsers(store, 3);
        const participants = [member(a!, { displayName: "Ann" }), member(b!, { shareHistoryTime: 7, metadata: { role: "x" } }), member(c!)];
        const t = await seedThread(store, a!, participants, { topic: "Hello", createdAt: 2_000 });
        const messages = await history(store, t.id);
        assert.equal(messages.length, 2);
        const [added, topic] = messages as [MessageRecord, MessageRecord];

        assert.equal(added.sequenceId, 1);
        assert.equal(added.type, "participantAdded");
        assert.deepEqual(plain(added.content.participants), plain(participants));
        assert.equal(added.content.initiatorId, a);
        assert.equal(added.senderId, undefined, "system messages have no sender");
        assert.equal(added.createdAt, 2_000);
        assert.equal(added.threadId, t.id);

        assert.equal(topic.sequenceId, 2);
        assert.equal(topic.type, "topicUpdated");
        assert.equal(topic.content.topic, "Hello");
        assert.equal(topic.content.initiatorId, a);
        assert.equal(topic.senderId, undefined);
        assert.equal(topic.createdAt, 2_000);
        assert.ok(numeric(topic.id) > numeric(added.id), "ids increase even at the same time");
        assert.equal(added.version, added.id);
        assert.equal(topic.version, topic.id);
      });

      test("the participants are stored in the given order", async (store) => {
        const [a, b, c] = await seedUsers(store, 3);
        const t = await seedThread(store, b!, [member(c!, { displayName: "C" }), member(a!), member(b!)]);
        assert.deepEqual(plain(await store.listParticipants(t.id, 0, 10)), [{ userId: c, shareHistoryTime: 0, displayName: "C" }, member(a!), member(b!)]);
        assert.equal(await store.countParticipants(t.id), 3);
        assert.deepEqual(plain(await store.getParticipant(t.id, c!)), { userId: c, shareHistoryTime: 0, displayName: "C" });
      });

      test("threads get increasing creation orders", async (store) => {
        const [a] = await seedUsers(store, 1);
        const orders: number[] = [];
        for (let i = 0; i < 4; i++) orders.push((await seedThread(store, a!, [a!], { createdAt: 1_000 - i })).order);
        for (let i = 1; i < orders.length; i++) assert.ok(orders[i]! > orders[i - 1]!, `order ${orders[i]} > ${orders[i - 1]}`);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("idempotency", () => {
      const threadInput = (creator: string, createdAt = 1_000) => ({
        id: newThreadId(),
        topic: "t",
        createdAt,
        createdBy: creator,
        participants: [member(creator)],
      });

      test("the same scope and key replays the stored response and creates no second thread", async (store) => {
        const [a] = await seedUsers(store, 1);
        const first = threadInput(a!);
        const outcome = await store.createThread({ thread: first, idempotency: { scope: a!, key: "k1", response: "first-response" } });
        assert.ok("created" in outcome, "created");

        const second = threadInput(a!, 2_000);
        const replay = await store.createThread({ thread: second, idempotency: { scope: a!, key: "k1", response: "second-response" } });
        assert.deepEqual(replay, { replayed: "first-response" });
        assert.equal(await store.getThread(second.id), undefined, "no second thread");
        assert.deepEqual((await store.listThreads(a!, { limit: 10 })).map((t) => t.id), [first.id]);
        assert.equal((await history(store, first.id)).length, 2, "the first thread is untouched");
      });

      test("the same key in another scope, or another key in the same scope, creates a new thread", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const one = threadInput(a!);
        assert.ok("created" in (await store.createThread({ thread: one, idempotency: { scope: a!, key: "k", response: "r1" } })));
        const otherScope = { ...threadInput(b!), participants: [member(b!)] };
        const created = await store.createThread({ thread: otherScope, idempotency: { scope: b!, key: "k", response: "r2" } });
        assert.ok("created" in created, "same key, other scope");
        assert.equal(created.created.id, otherScope.id);
        const otherKey = threadInput(a!);
        assert.ok("created" in (await store.createThread({ thread: otherKey, idempotency: { scope: a!, key: "k2", response: "r3" } })), "other key");
        // Each scope still replays its own response.
        assert.deepEqual(await store.createThread({ thread: threadInput(b!), idempotency: { scope: b!, key: "k", response: "x" } }), { replayed: "r2" });
        assert.deepEqual(await store.createThread({ thread: threadInput(a!), idempotency: { scope: a!, key: "k", response: "x" } }), { replayed: "r1" });
      });

      test("concurrent creates with one key make exactly one thread", async (store) => {
        const [a] = await seedUsers(store, 1);
        const inputs = Array.from({ length: 5 }, () => threadInput(a!));
        const outcomes = await Promise.all(
          inputs.map((thread, i) => store.createThread({ thread, idempotency: { scope: a!, key: "same", response: `r${i}` } })),
        );
        const winners = outcomes.flatMap((o, i) => ("created" in o ? [i] : []));
        assert.equal(winners.length, 1, "one creation");
        const winner = winners[0]!;
        const created = outcomes[winner]!;
        assert.ok("created" in created && created.created.id === inputs[winner]!.id, "the winner created its own thread");
        for (const [i, o] of outcomes.entries()) if (i !== winner) assert.deepEqual(o, { replayed: `r${winner}` });
        for (const [i, t] of inputs.entries()) if (i !== winner) assert.equal(await store.getThread(t.id), undefined);
        assert.equal((await store.listThreads(a!, { limit: 10 })).length, 1);
      });

      test("purgeIdempotencyKeys forgets keys older than the given time, and only those", async (store) => {
        const [a] = await seedUsers(store, 1);
        await store.createThread({ thread: threadInput(a!, 100), idempotency: { scope: a!, key: "old", response: "r-old" } });
        await store.createThread({ thread: threadInput(a!, 200), idempotency: { scope: a!, key: "new", response: "r-new" } });
        await store.createThread({ thread: threadInput(a!, 150) }); // no key: nothing to purge

        assert.equal(await store.purgeIdempotencyKeys(100), 0, "strictly older only");
        assert.equal(await store.purgeIdempotencyKeys(150), 1);
        assert.equal(await store.purgeIdempotencyKeys(150), 0, "already purged");

        const again = await store.createThread({ thread: threadInput(a!, 300), idempotency: { scope: a!, key: "old", response: "r-again" } });
        assert.ok("created" in again, "a purged key creates a new thread");
        assert.deepEqual(await store.createThread({ thread: threadInput(a!, 300), idempotency: { scope: a!, key: "new", response: "x" } }), { replayed: "r-new" });
        assert.deepEqual(await store.createThread({ thread: threadInput(a!, 300), idempotency: { scope: a!, key: "old", response: "x" } }), { replayed: "r-again" });
        assert.equal((await store.listThreads(a!, { limit: 10 })).length, 4, "purging keys never touches threads");
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("listThreads", () => {
      test("lists only the user's threads, newest created first, up to the limit", async (store) => {
        const [a, b, c] = await seedUsers(store, 3);
        const t1 = await seedThread(store, a!, [a!, b!], { createdAt: 100 });
        const t2 = await seedThread(store, b!, [b!, c!], { createdAt: 200 });
        const t3 = await seedThread(store, c!, [c!, a!], { createdAt: 300 });
        const t4 = await seedThread(store, a!, [a!], { createdAt: 50 }); // created last, older clock
        assert.deepEqual((await store.listThreads(a!, { limit: 10 })).map((t) => t.id), [t4.id, t3.id, t1.id], "creation order, not createdAt");
        assert.deepEqual((await store.listThreads(b!, { limit: 10 })).map((t) => t.id), [t2.id, t1.id]);
        assert.deepEqual((await store.listThreads(a!, { limit: 2 })).map((t) => t.id), [t4.id, t3.id]);
        assert.deepEqual(await store.listThreads(newUserId(), { limit: 10 }), []);
        const listed = (await store.listThreads(c!, { limit: 10 })).find((t) => t.id === t3.id);
        assert.deepEqual(plain(listed), plain(await store.getThread(t3.id)), "listed records are whole thread records");
      });

      test("beforeOrder pages by creation order and visits every thread once", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const mine: string[] = [];
        for (let i = 0; i < 7; i++) {
          mine.push((await seedThread(store, a!, [a!], { createdAt: 1_000 + i })).id);
          await seedThread(store, b!, [b!], { createdAt: 1_000 + i }); // interleaved, not a's
        }
        const seen: string[] = [];
        let beforeOrder: number | undefined;
        for (let guard = 0; ; guard++) {
          assert.ok(guard <= mine.length, "paging ends");
          const page = await store.listThreads(a!, { limit: 3, ...(beforeOrder !== undefined && { beforeOrder }) });
          if (page.length === 0) break;
          assert.ok(page.length <= 3, "limit");
          if (beforeOrder !== undefined) assert.ok(page.every((t) => t.order < beforeOrder!), "only threads before the cursor");
          seen.push(...page.map((t) => t.id));
          beforeOrder = page.at(-1)!.order;
        }
        assert.deepEqual(seen, [...mine].reverse());
      });

      test("lastMessageNotBefore keeps threads whose last message (system ones included) is at or after it", async (store) => {
        const [a] = await seedUsers(store, 1);
        const quiet = await seedThread(store, a!, [a!], { createdAt: 100 });
        const chatty = await seedThread(store, a!, [a!], { createdAt: 100 });
        const renamed = await seedThread(store, a!, [a!], { createdAt: 100 });
        const fresh = await seedThread(store, a!, [a!], { createdAt: 500 });
        await send(store, chatty.id, a!, "hi", 400);
        ok(await store.updateThread(renamed.id, a!, { topic: "renamed" }, 450));
        assert.equal((await store.getThread(chatty.id))?.lastMessageAt, 400);
        assert.equal((await store.getThread(renamed.id))?.lastMessageAt, 450);
        assert.deepEqual((await store.listThreads(a!, { limit: 10, lastMessageNotBefore: 400 })).map((t) => t.id), [fresh.id, renamed.id, chatty.id]);
        assert.deepEqual((await store.listThreads(a!, { limit: 10, lastMessageNotBefore: 401 })).map((t) => t.id), [fresh.id, renamed.id]);
        assert.deepEqual((await store.listThreads(a!, { limit: 10, lastMessageNotBefore: 100 })).length, 4);
        assert.ok(!(await store.listThreads(a!, { limit: 10, lastMessageNotBefore: 101 })).some((t) => t.id === quiet.id), "the quiet thread is filtered out");
        // Both filters together.
        assert.deepEqual(
          (await store.listThreads(a!, { limit: 10, lastMessageNotBefore: 400, beforeOrder: fresh.order })).map((t) => t.id),
          [renamed.id, chatty.id],
        );
      });

      test("deleted threads are still listed, with deletedAt", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const kept = await seedThread(store, a!, [a!, b!], { createdAt: 100 });
        const gone = await seedThread(store, a!, [a!, b!], { createdAt: 200 });
        assert.equal(await store.deleteThread(gone.id, b!, 300), true);
        const listed = await store.listThreads(a!, { limit: 10 });
        assert.deepEqual(listed.map((t) => t.id), [gone.id, kept.id]);
        assert.equal(listed[0]!.deletedAt, 300);
        assert.equal(listed[1]!.deletedAt, undefined);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("updateThread", () => {
      test("a topic change writes one topicUpdated message by the actor at the given time", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!, b!], { topic: "before", createdAt: 1_000 });
        const updated = ok(await store.updateThread(t.id, b!, { topic: "after" }, 2_000));
        assert.equal(updated.topic, "after");
        assert.equal(updated.lastMessageAt, 2_000);
        assert.deepEqual(plain(await store.getThread(t.id)), plain(updated));
        const messages = await history(store, t.id);
        assert.equal(messages.length, 3);
        const last = messages[2]!;
        assert.equal(last.sequenceId, 3);
        assert.equal(last.type, "topicUpdated");
        assert.equal(last.content.topic, "after");
        assert.equal(last.content.initiatorId, b);
        assert.equal(last.createdAt, 2_000);
        assert.equal(last.senderId, undefined);
      });

      test("setting the same topic writes no message", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { topic: "same", createdAt: 1_000 });
        const updated = ok(await store.updateThread(t.id, a!, { topic: "same" }, 2_000));
        assert.equal(updated.topic, "same");
        assert.equal(updated.lastMessageAt, 1_000);
        assert.equal((await history(store, t.id)).length, 2);
      });

      test("metadata and retention policy are set, replaced and cleared; absent fields are left alone", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { topic: "t", metadata: { a: "1" } });
        let updated = ok(await store.updateThread(t.id, a!, { metadata: { b: "2" } }, 2_000));
        assert.deepEqual(updated.metadata, { b: "2" }, "metadata is replaced, not merged");
        assert.equal(updated.topic, "t");
        assert.equal((await history(store, t.id)).length, 2, "no topic change, no message");

        updated = ok(await store.updateThread(t.id, a!, { retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 40 } }, 2_100));
        assert.deepEqual(updated.retentionPolicy, { kind: "threadCreationDate", deleteThreadAfterDays: 40 });
        assert.deepEqual(updated.metadata, { b: "2" }, "metadata untouched by a retention-only patch");

        updated = ok(await store.updateThread(t.id, a!, { topic: "t2" }, 2_200));
        assert.deepEqual(updated.retentionPolicy, { kind: "threadCreationDate", deleteThreadAfterDays: 40 }, "a topic-only patch keeps the policy");

        updated = ok(await store.updateThread(t.id, a!, { retentionPolicy: null, metadata: {} }, 2_300));
        assert.equal(updated.retentionPolicy, undefined, "null clears the policy");
        assert.deepEqual(updated.metadata ?? {}, {}, "empty metadata clears it");
        const read = await store.getThread(t.id);
        assert.equal(read?.retentionPolicy, undefined);
        assert.deepEqual(read?.metadata ?? {}, {});
        assert.equal(read?.topic, "t2");
      });

      test("an empty patch succeeds and changes nothing", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { metadata: { k: "v" } });
        const updated = ok(await store.updateThread(t.id, a!, {}, 5_000));
        assert.deepEqual(plain(updated), plain(t));
        assert.equal((await history(store, t.id)).length, 2);
      });

      test("failures: threadNotFound for unknown and deleted threads, notMember for outsiders", async (store) => {
        const [a, outsider] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!], { topic: "t" });
        failed(await store.updateThread(newThreadId(), a!, { topic: "x" }, 2_000), "threadNotFound");
        failed(await store.updateThread(t.id, outsider!, { topic: "x" }, 2_000), "notMember");
        assert.equal((await store.getThread(t.id))?.topic, "t", "a refused update changes nothing");
        assert.equal((await history(store, t.id)).length, 2);
        assert.equal(await store.deleteThread(t.id, a!, 3_000), true);
        failed(await store.updateThread(t.id, a!, { topic: "x" }, 4_000), "threadNotFound");
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("deleteThread and expireThreads", () => {
      test("deleteThread sets deletedAt; the deleted thread refuses every write with threadNotFound", async (store) => {
        const [a, b, c] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const m = await send(store, t.id, a!, "hello", 1_500);
        assert.equal(await store.deleteThread(t.id, b!, 2_000), true);
        const read = await store.getThread(t.id);
        assert.equal(read?.deletedAt, 2_000);
        assert.equal(read?.topic, "topic", "the record stays readable");

        failed(await store.deleteThread(t.id, a!, 3_000), "threadNotFound");
        failed(await store.sendMessage({ threadId: t.id, senderId: a!, type: "text", content: "x", at: 3_000 }), "threadNotFound");
        failed(await store.addParticipants(t.id, a!, [member(c!)], { at: 3_000, limit: 250 }), "threadNotFound");
        failed(await store.removeParticipant(t.id, a!, b!, 3_000), "threadNotFound");
        failed(await store.updateMessage(t.id, m.id, a!, { content: "x" }, 3_000), "threadNotFound");
        failed(await store.deleteMessage(t.id, m.id, a!, 3_000), "threadNotFound");
        failed(await store.sendReadReceipt(t.id, a!, m.id, 3_000), "threadNotFound");
        assert.equal((await store.getThread(t.id))?.deletedAt, 2_000, "deletedAt is not moved by a second delete");
      });

      test("deleteThread failures: threadNotFound for unknown, notMember for outsiders (nothing changes)", async (store) => {
        const [a, outsider] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!]);
        failed(await store.deleteThread(newThreadId(), a!, 2_000), "threadNotFound");
        failed(await store.deleteThread(t.id, outsider!, 2_000), "notMember");
        assert.equal((await store.getThread(t.id))?.deletedAt, undefined);
      });

      test("expireThreads deletes live threads whose threadCreationDate policy ran out, once", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t0 = 10 * DAY;
        const short = await seedThread(store, a!, [a!], { createdAt: t0, retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 1 } });
        const none = await seedThread(store, a!, [a!], { createdAt: t0, retentionPolicy: { kind: "none" } });
        const plainThread = await seedThread(store, a!, [a!], { createdAt: t0 });
        const cleared = await seedThread(store, a!, [a!], { createdAt: t0, retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 1 } });
        ok(await store.updateThread(cleared.id, a!, { retentionPolicy: null }, t0 + 1));
        const later = await seedThread(store, a!, [a!], { createdAt: t0 });
        ok(await store.updateThread(later.id, a!, { retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 3 } }, t0 + 1));

        assert.deepEqual(await store.expireThreads(t0 + DAY - 1), []);
        assert.deepEqual(await store.expireThreads(t0 + DAY), [short.id]);
        assert.equal((await store.getThread(short.id))?.deletedAt, t0 + DAY);
        assert.deepEqual(await store.expireThreads(t0 + 2 * DAY), [], "an expired thread expires once");
        assert.deepEqual(await store.expireThreads(t0 + 3 * DAY), [later.id], "a policy set by updateThread counts");
        assert.deepEqual(await store.expireThreads(t0 + 1_000 * DAY), []);
        for (const t of [none, plainThread, cleared]) assert.equal((await store.getThread(t.id))?.deletedAt, undefined);
      });

      test("expireThreads skips threads already deleted by a user", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 0, retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 1 } });
        assert.equal(await store.deleteThread(t.id, a!, 5), true);
        assert.deepEqual(await store.expireThreads(10 * DAY), []);
        assert.equal((await store.getThread(t.id))?.deletedAt, 5);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("participants", () => {
      test("listParticipants pages in join order with skip and limit; fields round-trip", async (store) => {
        const users = await seedUsers(store, 6);
        const records = users.map((u, i) => member(u, i % 2 === 0 ? { displayName: `User ${i}`, shareHistoryTime: i * 10, metadata: { i: String(i) } } : {}));
        const t = await seedThread(store, users[0]!, records.slice(0, 3));
        ok(await store.addParticipants(t.id, users[0]!, records.slice(3), { at: 2_000, limit: 250 }));
        assert.deepEqual(plain(await store.listParticipants(t.id, 0, 100)), plain(records));
        assert.deepEqual(plain(await store.listParticipants(t.id, 0, 2)), plain(records.slice(0, 2)));
        assert.deepEqual(plain(await store.listParticipants(t.id, 2, 3)), plain(records.slice(2, 5)));
        assert.deepEqual(plain(await store.listParticipants(t.id, 5, 10)), plain(records.slice(5)));
        assert.deepEqual(await store.listParticipants(t.id, 6, 10), []);
        assert.equal(await store.countParticipants(t.id), 6);
        assert.deepEqual(plain(await store.getParticipant(t.id, users[4]!)), plain(records[4]));
      });

      test("unknown threads and non-members read as empty", async (store) => {
        const [a, outsider] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!]);
        assert.equal(await store.getParticipant(t.id, outsider!), undefined);
        assert.equal(await store.getParticipant(newThreadId(), a!), undefined);
        assert.equal(await store.countParticipants(newThreadId()), 0);
        assert.deepEqual(await store.listParticipants(newThreadId(), 0, 10), []);
      });

      test("addParticipants adds only new ones, leaves existing ones unchanged, writes one participantAdded of the new ones", async (store) => {
        const [a, b, c, d] = await seedUsers(store, 4);
        const t = await seedThread(store, a!, [member(a!), member(b!, { displayName: "Bee" })], { createdAt: 1_000 });
        const result = ok(
          await store.addParticipants(t.id, b!, [member(b!, { displayName: "Changed" }), member(c!, { displayName: "Cee" }), member(d!)], { at: 2_000, limit: 250 }),
        );
        assert.deepEqual(plain(result.added), [{ userId: c, shareHistoryTime: 0, displayName: "Cee" }, member(d!)]);
        assert.equal((await store.getParticipant(t.id, b!))?.displayName, "Bee", "an existing participant is not updated");
        assert.deepEqual((await store.listParticipants(t.id, 0, 10)).map((p) => p.userId), [a, b, c, d], "new ones join at the end");

        const messages = await history(store, t.id);
        assert.equal(messages.length, 3, "exactly one new message");
        const added = messages[2]!;
        assert.equal(added.sequenceId, 3);
        assert.equal(added.type, "participantAdded");
        assert.deepEqual(plain(added.content.participants), plain(result.added));
        assert.equal(added.content.initiatorId, b);
        assert.equal(added.createdAt, 2_000);
        assert.equal((await store.getThread(t.id))?.lastMessageAt, 2_000);
        assert.deepEqual((await store.listThreads(c!, { limit: 10 })).map((x) => x.id), [t.id], "new members see the thread");
      });

      test("adding nobody new writes nothing and returns added: []", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        assert.deepEqual(ok(await store.addParticipants(t.id, a!, [member(b!), member(a!)], { at: 2_000, limit: 250 })), { added: [] });
        assert.deepEqual(ok(await store.addParticipants(t.id, a!, [], { at: 2_000, limit: 250 })), { added: [] });
        assert.equal((await history(store, t.id)).length, 2);
        assert.equal((await store.getThread(t.id))?.lastMessageAt, 1_000);
        assert.equal(await store.countParticipants(t.id), 2);
      });

      test("participantLimit fails the whole add and writes nothing; reaching the limit exactly is allowed", async (store) => {
        const [a, b, c, d, e] = await seedUsers(store, 5);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const refused = failed(await store.addParticipants(t.id, a!, [member(b!), member(c!), member(d!)], { at: 2_000, limit: 3 }), "participantLimit");
        assert.deepEqual(refused, { failure: "participantLimit", limit: 3, current: 2, adding: 2 }, "existing ones do not count as adding");
        assert.equal(await store.countParticipants(t.id), 2);
        assert.equal(await store.getParticipant(t.id, c!), undefined);
        assert.equal((await history(store, t.id)).length, 2);
        assert.deepEqual(await store.listThreads(c!, { limit: 10 }), []);

        const fits = ok(await store.addParticipants(t.id, a!, [member(c!), member(d!)], { at: 3_000, limit: 4 }));
        assert.equal(fits.added.length, 2);
        failed(await store.addParticipants(t.id, a!, [member(e!)], { at: 4_000, limit: 4 }), "participantLimit");
        assert.equal(await store.countParticipants(t.id), 4);
      });

      test("addParticipants failures: threadNotFound, notMember", async (store) => {
        const [a, b, outsider] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [a!]);
        failed(await store.addParticipants(newThreadId(), a!, [member(b!)], { at: 2_000, limit: 250 }), "threadNotFound");
        failed(await store.addParticipants(t.id, outsider!, [member(b!)], { at: 2_000, limit: 250 }), "notMember");
        assert.equal(await store.countParticipants(t.id), 1);
        assert.equal((await history(store, t.id)).length, 2);
      });

      test("removeParticipant removes, writes participantRemoved, and returns removed: true", async (store) => {
        const [a, b, c] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [member(a!), member(b!, { displayName: "Bee", metadata: { x: "y" } }), member(c!)], { createdAt: 1_000 });
        assert.deepEqual(ok(await store.removeParticipant(t.id, a!, b!, 2_000)), { removed: true });
        assert.equal(await store.getParticipant(t.id, b!), undefined);
        assert.equal(await store.countParticipants(t.id), 2);
        assert.deepEqual((await store.listParticipants(t.id, 0, 10)).map((p) => p.userId), [a, c]);
        const last = (await history(store, t.id)).at(-1)!;
        assert.equal(last.sequenceId, 3);
        assert.equal(last.type, "participantRemoved");
        assert.deepEqual(plain(last.content.participants), [{ userId: b, shareHistoryTime: 0, displayName: "Bee", metadata: { x: "y" } }]);
        assert.equal(last.content.initiatorId, a);
        assert.equal(last.createdAt, 2_000);
        assert.equal((await store.getThread(t.id))?.lastMessageAt, 2_000);
      });

      test("removing someone absent returns removed: false and writes nothing", async (store) => {
        const [a, outsider] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        assert.deepEqual(ok(await store.removeParticipant(t.id, a!, outsider!, 2_000)), { removed: false });
        assert.equal((await history(store, t.id)).length, 2);
        assert.equal((await store.getThread(t.id))?.lastMessageAt, 1_000);
      });

      test("removeParticipant failures: threadNotFound, notMember (the target stays)", async (store) => {
        const [a, b, outsider] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [a!, b!]);
        failed(await store.removeParticipant(newThreadId(), a!, b!, 2_000), "threadNotFound");
        failed(await store.removeParticipant(t.id, outsider!, b!, 2_000), "notMember");
        assert.equal(await store.countParticipants(t.id), 2);
      });

      test("a removed user loses the thread from listThreads and their read receipt; re-adding joins at the end", async (store) => {
        const [a, b, c] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [a!, b!, c!], { createdAt: 1_000 });
        const m = await send(store, t.id, a!, "hi", 1_100);
        ok(await store.sendReadReceipt(t.id, b!, m.id, 1_200));
        ok(await store.sendReadReceipt(t.id, c!, m.id, 1_300));
        ok(await store.removeParticipant(t.id, a!, b!, 2_000));
        assert.deepEqual(await store.listThreads(b!, { limit: 10 }), []);
        assert.deepEqual((await store.listReadReceipts(t.id, 0, 10)).map((r) => r.userId), [c]);
        failed(await store.sendMessage({ threadId: t.id, senderId: b!, type: "text", content: "x", at: 2_100 }), "notMember");

        ok(await store.addParticipants(t.id, a!, [member(b!)], { at: 3_000, limit: 250 }));
        assert.deepEqual((await store.listParticipants(t.id, 0, 10)).map((p) => p.userId), [a, c, b]);
        assert.deepEqual((await store.listThreads(b!, { limit: 10 })).map((x) => x.id), [t.id]);
        assert.deepEqual((await store.listReadReceipts(t.id, 0, 10)).map((r) => r.userId), [c], "the old receipt does not come back");
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("messages", () => {
      test("sendMessage returns the stored message, readable with getMessage", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const sent = ok(
          await store.sendMessage({ threadId: t.id, senderId: b!, senderDisplayName: "Bee", type: "html", content: "<p>hi</p>", metadata: { tag: "1" }, at: 5_000 }),
        );
        assert.equal(sent.threadId, t.id);
        assert.equal(sent.sequenceId, 3, "after the two system messages");
        assert.ok(numeric(sent.id) >= 5_000, "ids look like epoch milliseconds");
        assert.equal(sent.version, sent.id);
        assert.equal(sent.type, "html");
        assert.deepEqual(plain(sent.content), { message: "<p>hi</p>" });
        assert.equal(sent.senderId, b);
        assert.equal(sent.senderDisplayName, "Bee");
        assert.deepEqual(sent.metadata, { tag: "1" });
        assert.equal(sent.createdAt, 5_000);
        assert.equal(sent.editedAt, undefined);
        assert.equal(sent.deletedAt, undefined);
        assert.deepEqual(plain(await store.getMessage(t.id, sent.id)), plain(sent));
        assert.equal((await store.getThread(t.id))?.lastMessageAt, 5_000);
      });

      test("getMessage is undefined for unknown ids, unknown threads and another thread's message", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t1 = await seedThread(store, a!, [a!]);
        const t2 = await seedThread(store, a!, [a!]);
        const m = await send(store, t1.id, a!, "x", 5_000);
        assert.equal(await store.getMessage(t1.id, "999999999999999"), undefined);
        assert.equal(await store.getMessage(newThreadId(), m.id), undefined);
        assert.equal(await store.getMessage(t2.id, m.id), undefined, "never another thread's message");
      });

      test("sequence ids are consecutive per thread; ids strictly increase and createdAt never decreases, even when the clock stalls or steps back", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 10_000 });
        const other = await seedThread(store, a!, [a!], { createdAt: 10_000 });
        const times = [10_000, 10_000, 10_000, 9_000, 5_000, 10_500, 10_500, 10_001, 20_000, 1];
        const sent: MessageRecord[] = [];
        for (const [i, at] of times.entries()) sent.push(await send(store, t.id, a!, `m${i}`, at));
        assert.deepEqual(sent.map((m) => m.sequenceId), times.map((_, i) => i + 3));
        const all = await history(store, t.id);
        assert.deepEqual(all.map((m) => m.sequenceId), all.map((_, i) => i + 1));
        for (let i = 1; i < all.length; i++) {
          assert.ok(numeric(all[i]!.id) > numeric(all[i - 1]!.id), `id ${all[i]!.id} > ${all[i - 1]!.id}`);
          assert.ok(all[i]!.createdAt >= all[i - 1]!.createdAt, `createdAt ${all[i]!.createdAt} >= ${all[i - 1]!.createdAt}`);
        }
        assert.deepEqual(
          sent.map((m) => m.createdAt),
          [10_000, 10_000, 10_000, 10_000, 10_000, 10_500, 10_500, 10_500, 20_000, 20_000],
          "a message is created at its time, or at the previous message's when the clock went back",
        );
        assert.equal((await store.getThread(t.id))?.lastMessageAt, 20_000);
        for (const m of sent) assert.deepEqual(plain(await store.getMessage(t.id, m.id)), plain(m), "every id resolves to its message");
        // Numbering is per thread.
        assert.equal((await send(store, other.id, a!, "x", 10_000)).sequenceId, 3);
      });

      test("sendMessage failures: threadNotFound, notMember (nothing written)", async (store) => {
        const [a, outsider] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        failed(await store.sendMessage({ threadId: newThreadId(), senderId: a!, type: "text", content: "x", at: 2_000 }), "threadNotFound");
        failed(await store.sendMessage({ threadId: t.id, senderId: outsider!, type: "text", content: "x", at: 2_000 }), "notMember");
        assert.equal((await history(store, t.id)).length, 2);
        assert.equal((await store.getThread(t.id))?.lastMessageAt, 1_000);
        assert.equal((await send(store, t.id, a!, "ok", 3_000)).sequenceId, 3, "a refused send uses no sequence id");
      });

      test("listMessages: newest first, limit, beforeSequenceId keyset", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        for (let i = 0; i < 8; i++) await send(store, t.id, a!, `m${i}`, 2_000 + i * 100);
        const seqs = async (q: { beforeSequenceId?: number; notBefore?: number; limit: number }) =>
          (await store.listMessages(t.id, { notBefore: ALL_TIME, ...q })).map((m) => m.sequenceId);
        assert.deepEqual(await seqs({ limit: 100 }), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert.deepEqual(await seqs({ limit: 3 }), [10, 9, 8]);
        assert.deepEqual(await seqs({ limit: 3, beforeSequenceId: 8 }), [7, 6, 5]);
        assert.deepEqual(await seqs({ limit: 100, beforeSequenceId: 3 }), [2, 1]);
        assert.deepEqual(await seqs({ limit: 100, beforeSequenceId: 1 }), []);
        assert.deepEqual(await seqs({ limit: 2, beforeSequenceId: 1_000 }), [10, 9], "a cursor beyond the end");
        assert.deepEqual(await store.listMessages(newThreadId(), { notBefore: ALL_TIME, limit: 10 }), []);
        const newest = (await store.listMessages(t.id, { notBefore: ALL_TIME, limit: 1 }))[0]!;
        assert.equal(newest.content.message, "m7");
      });

      test("listMessages returns every message exactly as getMessage does: every kind, field and awkward character", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        const awkward = 'quote " backslash \\ slash / newline \n tab \t nul \u0000 bell \u0007 é 中文 😀 \u2028 </script>';
        ok(await store.sendMessage({ threadId: t.id, senderId: a!, senderDisplayName: awkward, type: "html", content: `<p>${awkward}</p>`, metadata: { [awkward]: awkward, "": "" }, at: 2_000 }));
        const edited = await send(store, t.id, a!, "before", 2_100);
        ok(await store.updateMessage(t.id, edited.id, a!, { content: awkward, metadata: { k: "v" } }, 2_200));
        const deleted = await send(store, t.id, a!, "gone", 2_300);
        ok(await store.deleteMessage(t.id, deleted.id, a!, 2_400));
        ok(await store.addParticipants(t.id, a!, [member(b!)], { at: 2_500, limit: 250 }));
        ok(await store.updateThread(t.id, a!, { topic: awkward }, 2_600));
        ok(await store.sendMessage({ threadId: t.id, senderId: b!, type: "text", content: "", at: 2_700 }));
        const listed = await store.listMessages(t.id, { notBefore: ALL_TIME, limit: 100 });
        assert.equal(listed.length, 8);
        for (const m of listed) assert.deepEqual(plain(m), plain(await store.getMessage(t.id, m.id)), `message ${m.sequenceId} as listed`);
        assert.equal(listed.find((m) => m.type === "html")?.content.message, `<p>${awkward}</p>`);
        assert.equal(listed.find((m) => m.id === edited.id)?.content.message, awkward);
      });

      test("listMessages: notBefore keeps messages created at or after it (with the keyset and limit)", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        // Sequence 3..8 at 2000, 3000, 3000, 3000, 4000, 5000.
        for (const at of [2_000, 3_000, 3_000, 3_000, 4_000, 5_000]) await send(store, t.id, a!, "m", at);
        const seqs = async (q: { beforeSequenceId?: number; notBefore: number; limit: number }) => (await store.listMessages(t.id, q)).map((m) => m.sequenceId);
        assert.deepEqual(await seqs({ notBefore: 3_000, limit: 100 }), [8, 7, 6, 5, 4], "inclusive, and all messages at that time");
        assert.deepEqual(await seqs({ notBefore: 3_001, limit: 100 }), [8, 7]);
        assert.deepEqual(await seqs({ notBefore: 1_000, limit: 100 }), [8, 7, 6, 5, 4, 3, 2, 1]);
        assert.deepEqual(await seqs({ notBefore: 0, limit: 100 }), [8, 7, 6, 5, 4, 3, 2, 1]);
        assert.deepEqual(await seqs({ notBefore: 5_001, limit: 100 }), []);
        assert.deepEqual(await seqs({ notBefore: 3_000, limit: 2 }), [8, 7]);
        assert.deepEqual(await seqs({ notBefore: 3_000, limit: 2, beforeSequenceId: 7 }), [6, 5]);
        assert.deepEqual(await seqs({ notBefore: 3_000, limit: 100, beforeSequenceId: 5 }), [4]);
        assert.deepEqual(await seqs({ notBefore: 3_000, limit: 100, beforeSequenceId: 4 }), []);
      });

      test("notBefore finds the first message at or after it anywhere in a long thread, ties included", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 }); // sequences 1-2 at 1000
        // Sequences 3..302: three messages per 10 ms step, so every step is a run of ties.
        const times = [1_000, 1_000];
        for (let i = 0; i < 300; i++) {
          const at = 2_000 + Math.floor(i / 3) * 10;
          times.push(at);
          await send(store, t.id, a!, "m", at);
        }
        for (const notBefore of [1, 999, 1_000, 1_001, 2_000, 2_005, 2_010, 2_500, 2_505, 2_980, 2_990, 2_991, 5_000]) {
          const expected = times.map((at, i) => ({ seq: i + 1, at })).filter((m) => m.at >= notBefore).map((m) => m.seq).reverse();
          const listed = (await store.listMessages(t.id, { notBefore, limit: 1_000 })).map((m) => m.sequenceId);
          assert.deepEqual(listed, expected, `notBefore ${notBefore}`);
        }
      });

      test("notBefore uses the stored createdAt when the clock went back", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        await send(store, t.id, a!, "late", 5_000);
        await send(store, t.id, a!, "clock went back", 2_000); // stored at 5000
        assert.deepEqual((await store.listMessages(t.id, { notBefore: 4_000, limit: 10 })).map((m) => m.content.message), ["clock went back", "late"]);
      });

      test("walking listMessages with limit 1 visits every message exactly once while new ones arrive", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        for (let i = 0; i < 10; i++) await send(store, t.id, i % 2 ? a! : b!, `m${i}`, 2_000 + i);
        const expected = (await history(store, t.id)).map((m) => m.id).reverse();
        const seen: string[] = [];
        let cursor: number | undefined;
        let clock = 3_000;
        for (let guard = 0; guard < 100; guard++) {
          const page = await store.listMessages(t.id, { notBefore: ALL_TIME, limit: 1, ...(cursor !== undefined && { beforeSequenceId: cursor }) });
          if (page.length === 0) break;
          assert.equal(page.length, 1);
          seen.push(page[0]!.id);
          cursor = page[0]!.sequenceId;
          await send(store, t.id, a!, "newer", clock++);
          if (guard % 3 === 0) ok(await store.updateThread(t.id, b!, { topic: `topic ${guard}` }, clock++));
        }
        assert.deepEqual(seen, expected);
      });

      test("updateMessage changes content and metadata, sets editedAt, and increases the version", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        const m = ok(await store.sendMessage({ threadId: t.id, senderId: a!, senderDisplayName: "A", type: "text", content: "one", metadata: { k: "1" }, at: 5_000 }));

        const e1 = ok(await store.updateMessage(t.id, m.id, a!, { content: "two" }, 6_000));
        assert.equal(e1.content.message, "two");
        assert.deepEqual(e1.metadata, { k: "1" }, "a content-only patch keeps metadata");
        assert.equal(e1.editedAt, 6_000);
        assert.ok(numeric(e1.version) > numeric(m.version), "the version increases");
        assert.equal(e1.id, m.id);
        assert.equal(e1.sequenceId, m.sequenceId);
        assert.equal(e1.createdAt, m.createdAt);
        assert.equal(e1.senderId, a);
        assert.equal(e1.senderDisplayName, "A");
        assert.equal(e1.type, "text");
        assert.deepEqual(plain(await store.getMessage(t.id, m.id)), plain(e1));

        const e2 = ok(await store.updateMessage(t.id, m.id, a!, { metadata: { k: "2" } }, 6_000));
        assert.equal(e2.content.message, "two", "a metadata-only patch keeps content");
        assert.deepEqual(e2.metadata, { k: "2" });
        assert.ok(numeric(e2.version) > numeric(e1.version), "the version increases even at the same time");

        const e3 = ok(await store.updateMessage(t.id, m.id, a!, { content: "three", metadata: {} }, 100));
        assert.ok(numeric(e3.version) > numeric(e2.version), "the version increases even when the clock went back");
        assert.equal(e3.editedAt, 100);
        assert.equal(e3.content.message, "three");
        assert.deepEqual(plain(await store.getMessage(t.id, m.id)), plain(e3));
        assert.equal((await history(store, t.id)).length, 3, "edits write no new message");
      });

      test("updateMessage failures: notSender, systemMessage, messageNotFound, messageDeleted, notMember, threadNotFound", async (store) => {
        const [a, b, outsider] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const m = await send(store, t.id, a!, "mine", 2_000);
        const system = (await history(store, t.id))[0]!;
        failed(await store.updateMessage(t.id, m.id, b!, { content: "x" }, 3_000), "notSender");
        failed(await store.updateMessage(t.id, system.id, a!, { content: "x" }, 3_000), "systemMessage");
        failed(await store.updateMessage(t.id, "123", a!, { content: "x" }, 3_000), "messageNotFound");
        failed(await store.updateMessage(t.id, m.id, outsider!, { content: "x" }, 3_000), "notMember");
        failed(await store.updateMessage(newThreadId(), m.id, a!, { content: "x" }, 3_000), "threadNotFound");
        assert.deepEqual(plain(await store.getMessage(t.id, m.id)), plain(m), "refused edits change nothing");
        ok(await store.deleteMessage(t.id, m.id, a!, 4_000));
        failed(await store.updateMessage(t.id, m.id, a!, { content: "x" }, 5_000), "messageDeleted");
        assert.equal((await store.getMessage(t.id, m.id))?.content.message, "mine");
      });

      test("deleteMessage sets deletedAt and a newer version; deleting again returns the same record", async (store) => {
        const [a] = await seedUsers(store, 1);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        const m = await send(store, t.id, a!, "bye", 2_000);
        const first = ok(await store.deleteMessage(t.id, m.id, a!, 3_000));
        assert.equal(first.deletedAt, 3_000);
        assert.equal(first.id, m.id);
        assert.equal(first.sequenceId, m.sequenceId);
        assert.ok(numeric(first.version) > numeric(m.version), "deleting increases the version");
        assert.deepEqual(plain(await store.getMessage(t.id, m.id)), plain(first));
        const second = ok(await store.deleteMessage(t.id, m.id, a!, 9_000));
        assert.deepEqual(plain(second), plain(first), "idempotent: same deletedAt and version");
        assert.deepEqual(plain(await store.getMessage(t.id, m.id)), plain(first));
        const listed = (await store.listMessages(t.id, { notBefore: ALL_TIME, limit: 10 })).find((x) => x.id === m.id);
        assert.equal(listed?.deletedAt, 3_000, "deleted messages stay in the history, marked");
      });

      test("deleteMessage failures: notSender, systemMessage, messageNotFound, notMember, threadNotFound", async (store) => {
        const [a, b, outsider] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const m = await send(store, t.id, a!, "mine", 2_000);
        const system = (await history(store, t.id))[1]!;
        failed(await store.deleteMessage(t.id, m.id, b!, 3_000), "notSender");
        failed(await store.deleteMessage(t.id, system.id, a!, 3_000), "systemMessage");
        failed(await store.deleteMessage(t.id, "42", a!, 3_000), "messageNotFound");
        failed(await store.deleteMessage(t.id, m.id, outsider!, 3_000), "notMember");
        failed(await store.deleteMessage(newThreadId(), m.id, a!, 3_000), "threadNotFound");
        assert.equal((await store.getMessage(t.id, m.id))?.deletedAt, undefined);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("read receipts", () => {
      test("sendReadReceipt stores one receipt per participant and returns it", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const m = await send(store, t.id, a!, "hi", 2_000);
        assert.deepEqual(ok(await store.sendReadReceipt(t.id, b!, m.id, 3_000)), { userId: b, messageId: m.id, readAt: 3_000 });
        assert.deepEqual(await store.listReadReceipts(t.id, 0, 10), [{ userId: b, messageId: m.id, readAt: 3_000 }]);
        const system = (await history(store, t.id))[0]!;
        assert.deepEqual(ok(await store.sendReadReceipt(t.id, a!, system.id, 3_100)), { userId: a, messageId: system.id, readAt: 3_100 }, "system messages can be read too");
      });

      test("the read horizon only moves forward", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const m1 = await send(store, t.id, a!, "1", 2_000);
        const m2 = await send(store, t.id, a!, "2", 2_000);
        const m3 = await send(store, t.id, a!, "3", 2_000);
        ok(await store.sendReadReceipt(t.id, b!, m2.id, 3_000));
        const older = ok(await store.sendReadReceipt(t.id, b!, m1.id, 4_000));
        assert.deepEqual(older, { userId: b, messageId: m2.id, readAt: 3_000 }, "an older message returns the current receipt");
        const same = ok(await store.sendReadReceipt(t.id, b!, m2.id, 5_000));
        assert.deepEqual(same, { userId: b, messageId: m2.id, readAt: 3_000 }, "the same message again changes nothing");
        assert.deepEqual(await store.listReadReceipts(t.id, 0, 10), [{ userId: b, messageId: m2.id, readAt: 3_000 }]);
        const newer = ok(await store.sendReadReceipt(t.id, b!, m3.id, 6_000));
        assert.deepEqual(newer, { userId: b, messageId: m3.id, readAt: 6_000 });
        assert.deepEqual(await store.listReadReceipts(t.id, 0, 10), [{ userId: b, messageId: m3.id, readAt: 6_000 }]);
      });

      test("sendReadReceipt failures: messageNotFound (also for another thread's message), notMember, threadNotFound", async (store) => {
        const [a, b, outsider] = await seedUsers(store, 3);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const other = await seedThread(store, b!, [b!], { createdAt: 1_000 });
        const m = await send(store, t.id, a!, "hi", 2_000);
        // Make sure the other thread has no message with m's id by sending there at a later time.
        const elsewhere = await send(store, other.id, b!, "elsewhere", 900_000);
        failed(await store.sendReadReceipt(t.id, b!, "77", 3_000), "messageNotFound");
        failed(await store.sendReadReceipt(t.id, b!, elsewhere.id, 3_000), "messageNotFound");
        failed(await store.sendReadReceipt(t.id, outsider!, m.id, 3_000), "notMember");
        failed(await store.sendReadReceipt(newThreadId(), b!, m.id, 3_000), "threadNotFound");
        assert.deepEqual(await store.listReadReceipts(t.id, 0, 10), []);
      });

      test("listReadReceipts: participants' join order, skip and limit, only current participants", async (store) => {
        const users = await seedUsers(store, 5);
        const [a, b, c, d, e] = users as [string, string, string, string, string];
        const t = await seedThread(store, a, [c, a, e, b], { createdAt: 1_000 });
        ok(await store.addParticipants(t.id, a, [member(d)], { at: 1_500, limit: 250 }));
        const m = await send(store, t.id, a, "hi", 2_000);
        // Receipts sent in an order unlike the join order; c never reads.
        for (const [i, u] of [d, b, e, a].entries()) ok(await store.sendReadReceipt(t.id, u, m.id, 3_000 + i));
        assert.deepEqual((await store.listReadReceipts(t.id, 0, 10)).map((r) => r.userId), [a, e, b, d]);
        assert.deepEqual((await store.listReadReceipts(t.id, 1, 2)).map((r) => r.userId), [e, b]);
        assert.deepEqual((await store.listReadReceipts(t.id, 3, 10)).map((r) => r.userId), [d]);
        assert.deepEqual(await store.listReadReceipts(t.id, 4, 10), []);
        ok(await store.removeParticipant(t.id, a, e, 4_000));
        assert.deepEqual((await store.listReadReceipts(t.id, 0, 10)).map((r) => r.userId), [a, b, d]);
        assert.deepEqual(await store.listReadReceipts(newThreadId(), 0, 10), []);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("copies", () => {
      test("mutating returned records does not change the store", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const user = (await store.getUser(a!))!;
        user.tokenEpoch = 99;
        user.deletedAt = 1;
        const revoked = (await store.revokeTokens(a!))!;
        revoked.tokenEpoch = 99;
        assert.deepEqual(plain(await store.getUser(a!)), { id: a, createdAt: 1, tokenEpoch: 1 });

        const outcome = await store.createThread({
          thread: { id: newThreadId(), topic: "t", createdAt: 1_000, createdBy: a!, metadata: { k: "v" }, participants: [member(a!, { metadata: { p: "1" } }), member(b!)] },
        });
        assert.ok("created" in outcome, "created");
        const t = outcome.created;
        const snapshot = plain(t);
        t.topic = "mutated";
        t.metadata!.k = "mutated";
        const got = (await store.getThread(t.id))!;
        got.metadata!.k = "mutated";
        got.lastMessageAt = -1;
        (await store.listThreads(a!, { limit: 10 }))[0]!.metadata!.k = "mutated";
        const updated = ok(await store.updateThread(t.id, a!, { metadata: { k: "v" } }, 1_000));
        updated.metadata!.k = "mutated";
        assert.deepEqual(plain(await store.getThread(t.id)), snapshot);

        const participant = (await store.getParticipant(t.id, a!))!;
        participant.metadata!.p = "mutated";
        (await store.listParticipants(t.id, 0, 10))[0]!.displayName = "mutated";
        const added = ok(await store.addParticipants(t.id, a!, [member(newUserId(), { displayName: "N" })], { at: 1_000, limit: 250 }));
        added.added[0]!.displayName = "mutated";
        assert.deepEqual(plain(await store.getParticipant(t.id, a!)), { userId: a, shareHistoryTime: 0, metadata: { p: "1" } });
        assert.equal((await store.listParticipants(t.id, 2, 1))[0]!.displayName, "N");

        const sent = ok(await store.sendMessage({ threadId: t.id, senderId: a!, type: "text", content: "orig", metadata: { m: "1" }, at: 2_000 }));
        const sentSnapshot = plain(sent);
        sent.content.message = "mutated";
        sent.metadata!.m = "mutated";
        const fetched = (await store.getMessage(t.id, sent.id))!;
        fetched.content.message = "mutated";
        fetched.sequenceId = 999;
        const listed = await store.listMessages(t.id, { notBefore: ALL_TIME, limit: 10 });
        listed[0]!.content.message = "mutated";
        listed.at(-1)!.content.participants!.length = 0;
        listed.at(-1)!.content.participants = [];
        assert.deepEqual(plain(await store.getMessage(t.id, sentSnapshot.id)), sentSnapshot);
        assert.equal((await history(store, t.id))[0]!.content.participants?.length, 2);

        const edited = ok(await store.updateMessage(t.id, sent.id, a!, { content: "edited" }, 3_000));
        edited.content.message = "mutated";
        const deleted = ok(await store.deleteMessage(t.id, sent.id, a!, 4_000));
        deleted.deletedAt = 1;
        const again = ok(await store.deleteMessage(t.id, sent.id, a!, 5_000));
        again.content.message = "mutated";
        const stored = (await store.getMessage(t.id, sent.id))!;
        assert.equal(stored.content.message, "edited");
        assert.equal(stored.deletedAt, 4_000);

        const receipt = ok(await store.sendReadReceipt(t.id, b!, sent.id, 6_000));
        receipt.messageId = "1";
        (await store.listReadReceipts(t.id, 0, 10))[0]!.readAt = 1;
        assert.deepEqual(await store.listReadReceipts(t.id, 0, 10), [{ userId: b, messageId: sent.id, readAt: 6_000 }]);
      });

      test("objects passed in are not kept: mutating them afterwards does not change the store", async (store) => {
        // Every place where an input is kept is listed, rather than stopping at the first one.
        const kept: string[] = [];
        const check = (where: string, actual: unknown, expected: unknown) => {
          if (!isDeepStrictEqual(plain(actual), plain(expected))) kept.push(`${where}: ${JSON.stringify(actual)}`);
        };
        const [a, b, c] = await seedUsers(store, 3);
        const userInput = { id: newUserId(), createdAt: 5, tokenEpoch: 0 };
        await store.createUser(userInput);
        userInput.tokenEpoch = 42;
        check("createUser input", (await store.getUser(userInput.id))?.tokenEpoch, 0);

        const participants = [member(a!, { displayName: "A", metadata: { p: "1" } }), member(b!)];
        const threadMetadata = { k: "v" };
        const retentionPolicy = { kind: "threadCreationDate" as const, deleteThreadAfterDays: 5 };
        const outcome = await store.createThread({
          thread: { id: newThreadId(), topic: "t", createdAt: 1_000, createdBy: a!, metadata: threadMetadata, retentionPolicy, participants },
        });
        assert.ok("created" in outcome, "created");
        const t = outcome.created;
        threadMetadata.k = "mutated";
        retentionPolicy.deleteThreadAfterDays = 1;
        participants[0]!.displayName = "mutated";
        participants[0]!.metadata!.p = "mutated";
        participants.push(member(c!));
        const thread = await store.getThread(t.id);
        check("createThread metadata", thread?.metadata, { k: "v" });
        check("createThread retentionPolicy", thread?.retentionPolicy, { kind: "threadCreationDate", deleteThreadAfterDays: 5 });
        check("createThread participants", plain(await store.getParticipant(t.id, a!)), { userId: a, shareHistoryTime: 0, displayName: "A", metadata: { p: "1" } });
        check(
          "createThread's participantAdded message",
          (await history(store, t.id))[0]!.content.participants,
          [{ userId: a, shareHistoryTime: 0, displayName: "A", metadata: { p: "1" } }, { userId: b, shareHistoryTime: 0 }],
        );

        const patchMetadata = { k: "patched" };
        ok(await store.updateThread(t.id, a!, { metadata: patchMetadata }, 1_100));
        patchMetadata.k = "mutated";
        check("updateThread metadata", (await store.getThread(t.id))?.metadata, { k: "patched" });

        const newcomer = member(c!, { displayName: "C", metadata: { q: "1" } });
        ok(await store.addParticipants(t.id, a!, [newcomer], { at: 1_200, limit: 250 }));
        newcomer.displayName = "mutated";
        newcomer.metadata!.q = "mutated";
        check("addParticipants participant", plain(await store.getParticipant(t.id, c!)), { userId: c, shareHistoryTime: 0, displayName: "C", metadata: { q: "1" } });
        check("addParticipants' participantAdded message", plain((await history(store, t.id)).at(-1)!.content.participants), [{ userId: c, shareHistoryTime: 0, displayName: "C", metadata: { q: "1" } }]);

        const messageMetadata = { m: "1" };
        const sent = ok(await store.sendMessage({ threadId: t.id, senderId: a!, type: "text", content: "x", metadata: messageMetadata, at: 2_000 }));
        messageMetadata.m = "mutated";
        check("sendMessage metadata", (await store.getMessage(t.id, sent.id))?.metadata, { m: "1" });

        const editMetadata = { m: "2" };
        ok(await store.updateMessage(t.id, sent.id, a!, { metadata: editMetadata }, 3_000));
        editMetadata.m = "mutated";
        check("updateMessage metadata", (await store.getMessage(t.id, sent.id))?.metadata, { m: "2" });
        assert.deepEqual(kept, [], "inputs the store kept a reference to");
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("concurrency", () => {
      test("many sendMessage calls issued at once all succeed with distinct consecutive sequence ids", async (store) => {
        const [a, b] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const n = 60;
        const sent = await Promise.all(
          Array.from({ length: n }, (_, i) => store.sendMessage({ threadId: t.id, senderId: i % 2 ? a! : b!, type: "text", content: `m${i}`, at: 2_000 })),
        );
        const records = sent.map(ok);
        assert.deepEqual(records.map((m) => m.sequenceId).sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i + 3));
        assert.equal(new Set(records.map((m) => m.id)).size, n, "distinct ids");
        const all = await history(store, t.id);
        assert.equal(all.length, n + 2);
        for (let i = 1; i < all.length; i++) assert.ok(numeric(all[i]!.id) > numeric(all[i - 1]!.id), `id ${all[i]!.id} > ${all[i - 1]!.id}`);
        for (const m of records) assert.deepEqual(plain(await store.getMessage(t.id, m.id)), plain(m), "each result is what was stored");
        assert.deepEqual(new Set(all.slice(2).map((m) => m.content.message)), new Set(Array.from({ length: n }, (_, i) => `m${i}`)));
      });

      test("mixed writes issued at once keep one gap-free sequence per thread", async (store) => {
        const [a, b, c] = await seedUsers(store, 3);
        const t1 = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const t2 = await seedThread(store, b!, [b!, c!], { createdAt: 1_000 });
        const outcomes = await Promise.all([
          store.sendMessage({ threadId: t1.id, senderId: a!, type: "text", content: "1", at: 2_000 }),
          store.sendMessage({ threadId: t2.id, senderId: c!, type: "text", content: "2", at: 2_000 }),
          store.updateThread(t1.id, b!, { topic: "renamed" }, 2_000),
          store.addParticipants(t1.id, a!, [member(c!)], { at: 2_000, limit: 250 }),
          store.sendMessage({ threadId: t1.id, senderId: c!, type: "text", content: "maybe", at: 2_000 }), // may run before or after c joins
          store.removeParticipant(t2.id, b!, c!, 2_000),
          store.sendMessage({ threadId: t1.id, senderId: b!, type: "text", content: "3", at: 2_000 }),
          store.createUser({ id: newUserId(), createdAt: 2_000, tokenEpoch: 0 }),
        ]);
        for (const [i, o] of outcomes.entries()) if (i !== 4) ok(o);
        for (const t of [t1, t2]) {
          const all = await history(store, t.id);
          assert.deepEqual(all.map((m) => m.sequenceId), all.map((_, i) => i + 1), `gap-free in ${t.id}`);
          for (let i = 1; i < all.length; i++) assert.ok(numeric(all[i]!.id) > numeric(all[i - 1]!.id), `id ${all[i]!.id} > ${all[i - 1]!.id}`);
        }
        const fifth = outcomes[4] as Awaited<ReturnType<Store["sendMessage"]>>;
        assert.equal((await history(store, t1.id)).length, 2 + 4 + ("failure" in fifth ? 0 : 1));
        assert.equal(await store.countParticipants(t1.id), 3);
        assert.equal(await store.countParticipants(t2.id), 1);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe("event streams (basics; tests/store/events.test.ts goes deeper)", () => {
      test("a write appends one change, which every participant's stream reads, and tells commit listeners", async (store) => {
        const [a, b, outsider] = await seedUsers(store, 3);
        const heard: EventsCommitted[] = [];
        const stop = store.onEventsCommitted((commit) => heard.push(commit));
        const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
        const m = await send(store, t.id, b!, "hi", 2_000);
        await new Promise((r) => setImmediate(r));
        stop();
        for (const u of [a!, b!]) {
          const log = await store.readEvents(u, 0, 10);
          assert.deepEqual(log.map((e) => [e.seq, e.name]), [[1, "chatThreadCreated"], [2, "chatMessageReceived"]]);
          assert.equal(log[1]!.data.message?.id, m.id);
          assert.deepEqual(await store.eventBounds(u), { latest: 2, pruned: 0 });
        }
        assert.deepEqual(await store.readEvents(outsider!, 0, 10), []);
        assert.deepEqual(await store.eventBounds(outsider!), { latest: 2, pruned: 0 }, "bounds are the feed's, the same for everyone");
        const changes = await store.readChanges(0, 10);
        assert.deepEqual(changes.map((c) => c.name), ["chatThreadCreated", "chatMessageReceived"]);
        assert.deepEqual(new Set(changes[1]!.recipients), new Set([a, b]));
        assert.ok(heard.some((h) => h.userIds.includes(a!) && h.userIds.includes(b!)), "listeners heard both participants' streams grow");
        // What the commit announces is exactly what the streams hold (live delivery relies on it).
        const announced = heard.flatMap((h) => h.changes);
        assert.deepEqual(announced.map((c) => [c.seq, c.name]), [[1, "chatThreadCreated"], [2, "chatMessageReceived"]]);
        for (const change of announced) {
          assert.deepEqual(new Set(change.recipients), new Set([a, b]));
          const { recipients, ...event } = change;
          for (const userId of recipients) {
            const [logged] = await store.readEvents(userId, change.seq - 1, 1);
            assert.deepEqual(JSON.parse(JSON.stringify({ userId, ...event })), JSON.parse(JSON.stringify(logged)));
          }
        }
        for (const h of heard) assert.deepEqual(new Set(h.userIds), new Set(h.changes.flatMap((c) => c.recipients)));
      });

      test("refused writes append no events; pruneEvents drops old ones", async (store) => {
        const [a, outsider] = await seedUsers(store, 2);
        const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
        failed(await store.sendMessage({ threadId: t.id, senderId: outsider!, type: "text", content: "x", at: 2_000 }), "notMember");
        failed(await store.updateThread(t.id, outsider!, { topic: "x" }, 2_000), "notMember");
        assert.equal((await store.readChanges(0, 10)).length, 1);
        await send(store, t.id, a!, "later", 5_000);
        const head = await store.changesHead();
        assert.equal(head, (await store.readChanges(0, 10)).at(-1)!.seq);
        assert.equal(await store.pruneEvents(2_000), 1, "the thread's creation");
        assert.deepEqual((await store.readEvents(a!, 0, 10)).map((e) => e.seq), [2]);
        assert.deepEqual(await store.eventBounds(a!), { latest: 2, pruned: 1 });
        assert.equal(await store.pruneEvents(10_000), 1, "everything older than 10 s is gone");
        assert.deepEqual(await store.readChanges(0, 10), []);
        assert.deepEqual(await store.eventBounds(a!), { latest: 2, pruned: 2 });
        assert.equal(await store.changesHead(), head, "the head survives pruning of the feed");
      });
    });
  });
}
