// The Store conformance suite on every driver, plus what only the SQLite driver promises: data survives
// a restart, batches of concurrent writes commit whole, and a newer schema is refused.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { MemoryStore, openSqliteStore, SQLITE_MIGRATIONS, type EventsCommitted, type MessageRecord, type Store } from "@parley/server";
import { storeConformance } from "./conformance.js";
import { history, member, newThreadId, newUserId, numeric, ok, plain, seedThread, seedUsers, send } from "./fixtures.js";

function tempDir(): { dir: string; file: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-store-"));
  return { dir, file: path.join(dir, "parley.db"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

storeConformance("memory", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));

storeConformance("sqlite", async () => {
  const tmp = tempDir();
  const store = openSqliteStore({ path: tmp.file });
  return {
    store,
    cleanup: async () => {
      try {
        await store.close();
      } finally {
        tmp.remove();
      }
    },
  };
});

describe("SQLite store only", () => {
  /** A temp database file, removed afterwards; `open` opens it (again) and tracks it for closing. */
  const withFile = (title: string, body: (open: () => Store, file: string) => Promise<void>) =>
    it(title, async () => {
      const tmp = tempDir();
      const opened: Store[] = [];
      try {
        await body(() => {
          const store = openSqliteStore({ path: tmp.file });
          opened.push(store);
          return store;
        }, tmp.file);
      } finally {
        for (const store of opened) await store.close().catch(() => {});
        tmp.remove();
      }
    });

  /** Everything the store can tell about the given users and threads. */
  async function snapshot(store: Store, users: string[], threads: string[]) {
    const out: Record<string, unknown> = {};
    for (const u of users) {
      out[`user ${u}`] = await store.getUser(u);
      out[`threads of ${u}`] = await store.listThreads(u, { limit: 1000 });
    }
    for (const t of threads) {
      out[`thread ${t}`] = await store.getThread(t);
      out[`participants ${t}`] = await store.listParticipants(t, 0, 1000);
      out[`count ${t}`] = await store.countParticipants(t);
      out[`messages ${t}`] = await history(store, t);
      out[`receipts ${t}`] = await store.listReadReceipts(t, 0, 1000);
    }
    return out;
  }

  withFile("everything written is read back identical after close and reopen; numbering continues", async (open) => {
    let store = open();
    const [a, b, c, gone] = await seedUsers(store, 4, 100);
    await store.revokeTokens(a!);
    await store.revokeTokens(a!);
    assert.equal(await store.deleteUser(gone!, 150), true);

    const t1 = await seedThread(store, a!, [member(a!, { displayName: "Ann", metadata: { r: "1" } }), member(b!, { shareHistoryTime: 50 })], {
      topic: "first",
      createdAt: 1_000,
      metadata: { k: "v" },
      retentionPolicy: { kind: "threadCreationDate", deleteThreadAfterDays: 30 },
    });
    const t2 = await seedThread(store, b!, [b!, c!], { createdAt: 2_000 });
    const t3 = await seedThread(store, c!, [c!, a!], { createdAt: 3_000 });
    ok(await store.addParticipants(t1.id, a!, [member(c!, { displayName: "Cee" })], { at: 4_000, limit: 250 }));
    ok(await store.updateThread(t1.id, b!, { topic: "renamed", metadata: { k: "w" } }, 4_100));
    const sent: MessageRecord[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(store, t1.id, [a!, b!, c!][i % 3]!, `m${i}`, 5_000 + i));
    ok(await store.sendMessage({ threadId: t2.id, senderId: c!, senderDisplayName: "C", type: "html", content: "<b>x</b>", metadata: { z: "1" }, at: 5_500 }));
    ok(await store.updateMessage(t1.id, sent[0]!.id, a!, { content: "edited", metadata: { e: "1" } }, 6_000));
    ok(await store.deleteMessage(t1.id, sent[1]!.id, b!, 6_100));
    ok(await store.sendReadReceipt(t1.id, a!, sent[4]!.id, 7_000));
    ok(await store.sendReadReceipt(t1.id, c!, sent[2]!.id, 7_100));
    ok(await store.removeParticipant(t2.id, b!, c!, 7_200));
    assert.equal(await store.deleteThread(t3.id, c!, 7_300), true);
    const idem = await store.createThread({
      thread: { id: newThreadId(), topic: "idem", createdAt: 8_000, createdBy: a!, participants: [member(a!)] },
      idempotency: { scope: a!, key: "k", response: "the response" },
    });
    assert.ok("created" in idem, "created");
    const lastEvent = (await store.eventBounds(a!)).latest;

    const users = [a!, b!, c!, gone!];
    const threads = [t1.id, t2.id, t3.id, idem.created.id];
    const before = await snapshot(store, users, threads);
    await store.close();

    store = open();
    assert.deepEqual(await snapshot(store, users, threads), before);
    assert.deepEqual(
      await store.createThread({ thread: { id: newThreadId(), topic: "again", createdAt: 9_000, createdBy: a!, participants: [member(a!)] }, idempotency: { scope: a!, key: "k", response: "x" } }),
      { replayed: "the response" },
      "idempotency keys survive",
    );
    assert.equal((await store.eventBounds(a!)).latest, lastEvent, "event logs survive");

    // Numbering continues, even with a clock that went back across the restart.
    const lastBefore = (await history(store, t1.id)).at(-1)!;
    const next = await send(store, t1.id, a!, "after restart", 1);
    assert.equal(next.sequenceId, lastBefore.sequenceId + 1);
    assert.ok(numeric(next.id) > numeric(lastBefore.id), "ids keep increasing");
    assert.ok(next.createdAt >= lastBefore.createdAt, "createdAt does not go back");
    const t4 = await seedThread(store, a!, [a!], { createdAt: 10_000 });
    assert.ok(t4.order > Math.max(t1.order, t2.order, t3.order, idem.created.order), "creation order continues");
    assert.deepEqual((await store.listThreads(a!, { limit: 1 })).map((t) => t.id), [t4.id]);
    assert.equal((await store.revokeTokens(a!))?.tokenEpoch, 3);
    assert.equal(await store.deleteUser(gone!, 9_999), false, "still deleted");
    assert.equal((await store.eventBounds(a!)).latest, lastEvent + 2, "event seqs continue");
  });

  withFile("200 concurrent sendMessage calls all resolve and are all readable after close and reopen", async (open) => {
    let store = open();
    const [a, b] = await seedUsers(store, 2);
    const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
    const n = 200;
    const sent = (
      await Promise.all(Array.from({ length: n }, (_, i) => store.sendMessage({ threadId: t.id, senderId: i % 2 ? a! : b!, type: "text", content: `m${i}`, at: 2_000 + (i % 7) })))
    ).map(ok);
    assert.deepEqual(sent.map((m) => m.sequenceId).sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i + 3));
    assert.equal(new Set(sent.map((m) => m.id)).size, n);
    await store.close();

    store = open();
    const all = await history(store, t.id);
    assert.equal(all.length, n + 2);
    const bySeq = new Map(all.map((m) => [m.sequenceId, m]));
    for (const m of sent) assert.deepEqual(plain(bySeq.get(m.sequenceId)), plain(m), `message ${m.sequenceId} as it was returned`);
    for (let i = 1; i < all.length; i++) {
      assert.ok(numeric(all[i]!.id) > numeric(all[i - 1]!.id), `id ${all[i]!.id} > ${all[i - 1]!.id}`);
      assert.ok(all[i]!.createdAt >= all[i - 1]!.createdAt, "createdAt never decreases");
    }
    assert.equal((await store.getThread(t.id))?.lastMessageAt, all.at(-1)!.createdAt);
  });

  withFile("close() waits for writes issued before it, even ones not awaited", async (open) => {
    let store = open();
    const [a] = await seedUsers(store, 1);
    const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
    const pending = Array.from({ length: 10 }, (_, i) => store.sendMessage({ threadId: t.id, senderId: a!, type: "text", content: `m${i}`, at: 2_000 }));
    await store.close();
    (await Promise.all(pending)).map(ok);
    store = open();
    assert.equal((await history(store, t.id)).length, 12);
  });

  withFile("close() waits for a write that a commit listener issued", async (open) => {
    let store = open();
    const [a] = await seedUsers(store, 1);
    const late = newUserId();
    let issued: Promise<void> | undefined;
    store.onEventsCommitted(() => {
      issued ??= store.createUser({ id: late, createdAt: 5, tokenEpoch: 0 });
    });
    await seedThread(store, a!, [a!], { createdAt: 1_000 }); // commits events: the listener writes
    assert.ok(issued, "the listener ran when the thread was committed");
    await store.close();
    const outcome = await issued.then(
      () => "committed",
      (error: Error) => `rejected: ${error.message}`,
    );
    assert.equal(outcome, "committed", "a write issued before close() must not be cut off by it");
    store = open();
    assert.equal((await store.getUser(late))?.id, late);
  });

  withFile("a write rolled back after appending events announces none of them; the rest of its batch is announced", async (open) => {
    const store = open();
    const [a, b] = await seedUsers(store, 2);
    const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
    const heard: EventsCommitted[] = [];
    store.onEventsCommitted((commit) => heard.push(commit));
    // Fault injection: the send of m2 fails after its events were appended. Its batch is rolled back
    // and run again with savepoints, where m2's savepoint alone rolls back.
    const internals = store as unknown as { emit: (...args: unknown[]) => void };
    const emit = internals.emit;
    internals.emit = function (this: unknown, ...args: unknown[]) {
      emit.apply(this, args);
      if ((args[3] as { message?: { content: { message: string } } }).message?.content.message === "m2") throw new Error("injected failure after emit");
    };
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => store.sendMessage({ threadId: t.id, senderId: a!, type: "text", content: `m${i}`, at: 2_000 + i })));
    internals.emit = emit;
    assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"], "the three sends ran in one batch");
    const announced = heard.flatMap((h) => h.changes).map((c) => c.data.message?.content.message);
    assert.deepEqual(announced, ["m1", "m3"]);
    const logged = (await store.readEvents(b!, 1, 10)).map((e) => [e.seq, e.data.message?.content.message]);
    assert.deepEqual(logged, [[2, "m1"], [3, "m3"]]);
    assert.deepEqual(heard.flatMap((h) => h.changes).map((c) => c.seq), [2, 3], "announced seqs are the logged ones");
    assert.ok(heard.flatMap((h) => h.changes).every((c) => c.recipients.includes(b!)));
  });

  withFile("announced recipients follow membership changes, and not one that was rolled back", async (open) => {
    const store = open();
    const [a, b, c] = await seedUsers(store, 3);
    const t = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
    const heard: EventsCommitted[] = [];
    store.onEventsCommitted((commit) => heard.push(commit));
    const recipientsOf = async (content: string, at: number) => {
      heard.length = 0;
      await send(store, t.id, a!, content, at);
      return [...heard.flatMap((h) => h.changes)[0]!.recipients].sort();
    };
    assert.deepEqual(await recipientsOf("m0", 2_000), [a, b].sort());

    // Fault injection: adding c fails after its membership rows and event were written.
    const internals = store as unknown as { emit: (...args: unknown[]) => void };
    const emit = internals.emit;
    internals.emit = function (this: unknown, ...args: unknown[]) {
      emit.apply(this, args);
      if (args[2] === "participantsAdded") throw new Error("injected failure after emit");
    };
    await assert.rejects(store.addParticipants(t.id, a!, [{ userId: c!, shareHistoryTime: 0 }], { at: 3_000, limit: 250 }), /injected/);
    internals.emit = emit;
    assert.deepEqual(await recipientsOf("m1", 4_000), [a, b].sort(), "c was never added");

    ok(await store.addParticipants(t.id, a!, [{ userId: c!, shareHistoryTime: 0 }], { at: 5_000, limit: 250 }));
    assert.deepEqual(await recipientsOf("m2", 6_000), [a, b, c].sort());
    ok(await store.removeParticipant(t.id, a!, b!, 7_000));
    assert.deepEqual(await recipientsOf("m3", 8_000), [a, c].sort());
  });

  withFile("WAL checkpoints run in a worker, not in COMMIT; close stops it and leaves no WAL behind", async (open, file) => {
    const store = open();
    const db = (store as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 8192, "the main connection only checkpoints at the cap");
    const [a] = await seedUsers(store, 1);
    const t = await seedThread(store, a!, [a!], { createdAt: 1_000 });
    const initial = statSync(file).size;
    // ~1,000 commits of ~2 KB each: a few MB of WAL, below the cap, so only the worker copies it.
    for (let i = 0; i < 1_000; i++) await send(store, t.id, a!, "x".repeat(2_000), 2_000 + i);
    const deadline = Date.now() + 5_000;
    while (statSync(file).size < initial + 2_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(statSync(file).size >= initial + 2_000_000, `the worker copied the WAL into the database (${initial} → ${statSync(file).size} bytes)`);
    await store.close();
    assert.equal(existsSync(`${file}-wal`), false, "the last connection to close checkpoints and removes the WAL");
    const again = open();
    assert.equal((await history(again, t.id)).filter((m) => m.type === "text").length, 1_000);
  });

  withFile("a fresh database is migrated once; reopening keeps the schema version", async (open, file) => {
    const store = open();
    await store.close();
    const db = new Database(file);
    const version = db.pragma("user_version", { simple: true }) as number;
    db.close();
    assert.ok(version > 0, "migrations ran");
    const again = open();
    await again.createUser({ id: newUserId(), createdAt: 1, tokenEpoch: 0 });
    await again.close();
    const db2 = new Database(file);
    assert.equal(db2.pragma("user_version", { simple: true }), version);
    db2.close();
  });

  withFile("an event is one change row whatever the thread's size; members read it through their memberships", async (open, file) => {
    const store = open();
    const users = await seedUsers(store, 300);
    const t = await seedThread(store, users[0]!, users);
    await send(store, t.id, users[7]!, "to all 300", 2_000);
    await store.removeParticipant(t.id, users[0]!, users[299]!, 3_000);
    for (const u of [users[0]!, users[150]!, users[299]!]) assert.equal((await store.readEvents(u, 1, 10))[0]!.data.message?.content.message, "to all 300");
    await store.close();

    const db = new Database(file, { readonly: true });
    const changes = db.prepare("SELECT seq, recipients FROM changes ORDER BY seq").all() as Array<{ seq: number; recipients: string }>;
    assert.equal(changes.length, 3, "created, the message, the removal: one row each");
    assert.ok(changes.every((c) => c.recipients === ""), "recipients are derived from memberships, not copied into every change");
    const memberships = db.prepare("SELECT from_seq, to_seq FROM memberships").all() as Array<{ from_seq: number; to_seq: number | null }>;
    assert.equal(memberships.length, 300, "one per member, written when they joined");
    assert.ok(memberships.every((m) => m.from_seq === 1));
    assert.deepEqual(memberships.filter((m) => m.to_seq !== null).map((m) => m.to_seq), [3], "the removal ended one membership at its own change");
    db.close();
  });

  withFile("deleting a thread ends its memberships at the deletion, which members still receive; pruning then removes them", async (open, file) => {
    const store = open();
    const [a, b, c] = await seedUsers(store, 3);
    const gone = await seedThread(store, a!, [a!, b!], { createdAt: 1_000 });
    const kept = await seedThread(store, a!, [a!, c!], { createdAt: 1_000 });
    await send(store, gone.id, b!, "before", 2_000);
    ok(await store.deleteThread(gone.id, a!, 3_000));
    await send(store, kept.id, c!, "after", 4_000);
    assert.deepEqual((await store.readEvents(b!, 0, 10)).map((e) => e.name), ["chatThreadCreated", "chatMessageReceived", "chatThreadDeleted"]);
    assert.deepEqual((await store.readEvents(a!, 0, 10)).map((e) => e.name).slice(-2), ["chatThreadDeleted", "chatMessageReceived"]);

    const deletion = (await store.readEvents(b!, 0, 10)).at(-1)!.seq;
    const db = (store as unknown as { db: Database.Database }).db;
    const openMemberships = () => db.prepare("SELECT user_id FROM memberships WHERE to_seq IS NULL ORDER BY user_id").pluck().all();
    assert.deepEqual(openMemberships(), [a, c].sort(), "only the live thread's memberships are open");
    assert.deepEqual(db.prepare("SELECT DISTINCT to_seq FROM memberships WHERE to_seq IS NOT NULL").pluck().all(), [deletion]);
    await store.pruneEvents(3_500);
    assert.equal(db.prepare("SELECT count(*) FROM memberships").pluck().get(), 2, "the deleted thread's memberships are pruned with its changes");
    await store.close();
  });

  it("migration 7 ends the open memberships of threads deleted before it", async () => {
    const tmp = tempDir();
    try {
      const old = new Database(tmp.file);
      for (const [i, step] of SQLITE_MIGRATIONS.slice(0, 6).entries()) {
        old.exec(step);
        old.pragma(`user_version = ${i + 1}`);
      }
      const [a, b] = [newUserId(), newUserId()];
      old.prepare("INSERT INTO threads (ord, id, topic, created_at, created_by, last_message_at, deleted_at) VALUES (1, ?, 'x', 1, ?, 1, 5), (2, ?, 'y', 1, ?, 1, NULL)").run(newThreadId(), a, newThreadId(), a);
      old.prepare("INSERT INTO changes (seq, name, thread_id, thread_ord, data, recipients, at) VALUES (10, 'chatThreadCreated', 't1', 1, '{}', '', 1), (11, 'chatThreadDeleted', 't1', 1, '{}', '', 5)").run();
      old.prepare("INSERT INTO memberships (user_id, thread_ord, from_seq, to_seq) VALUES (?, 1, 10, NULL), (?, 1, 10, NULL), (?, 2, 10, NULL)").run(a, b, a);
      old.close();
      const store = openSqliteStore({ path: tmp.file });
      const db = (store as unknown as { db: Database.Database }).db;
      assert.deepEqual(db.prepare("SELECT thread_ord, to_seq FROM memberships ORDER BY thread_ord, user_id").raw().all(), [[1, 11], [1, 11], [2, null]]);
      await store.close();
    } finally {
      tmp.remove();
    }
  });

  withFile("a database from a newer Parley (user_version above the migrations) refuses to open", async (open, file) => {
    const db = new Database(file);
    db.pragma("user_version = 999");
    db.close();
    assert.throws(() => open(), /newer/);
    const check = new Database(file);
    assert.equal(check.pragma("user_version", { simple: true }), 999, "the refused database is left at its version");
    check.close();
  });
});
