// GroupCommit's promise: a write resolves only after its batch committed AND the durability flush
// that started after that commit ended; listeners hear of a batch only then; batches queue behind a
// running flush and commit together; a failed flush never acknowledges.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { GroupCommit, WalSync, type Durability } from "@parley/server";

/** A Durability whose flushes end only when the test says so. */
class ManualDurability implements Durability {
  readonly pending: Array<(error: Error | null) => void> = [];
  sync(done: (error: Error | null) => void): void {
    this.pending.push(done);
  }
  finish(error: Error | null = null): void {
    const done = this.pending.shift();
    assert.ok(done, "no flush is running");
    done(error);
  }
  close(): void {}
}

function setup() {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (v INTEGER NOT NULL)");
  const durability = new ManualDurability();
  const log: string[] = [];
  let batch = 0;
  const commit = new GroupCommit(
    db,
    {
      committed: () => {
        const n = ++batch;
        log.push(`committed ${n}`);
        return () => log.push(`durable ${n}`);
      },
    },
    durability,
  );
  const insert = (v: number) =>
    commit.write(() => {
      db.prepare("INSERT INTO t (v) VALUES (?)").run(v);
      return v;
    });
  const count = () => (db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
  return { db, durability, commit, insert, log, count };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("GroupCommit with a durability flush", () => {
  it("resolves writes only after the flush that followed their commit", async () => {
    const { durability, insert, log, count } = setup();
    let resolved = 0;
    const writes = [insert(1), insert(2), insert(3)].map((p) => p.then(() => resolved++));
    await turn();
    assert.equal(count(), 3, "the batch is committed");
    assert.deepEqual(log, ["committed 1"]);
    assert.equal(durability.pending.length, 1);
    await turn();
    assert.equal(resolved, 0, "nothing is acknowledged before the flush ends");
    durability.finish();
    await Promise.all(writes);
    assert.equal(resolved, 3);
    assert.deepEqual(log, ["committed 1", "durable 1"], "listeners hear of the batch once it is on disk");
  });

  it("queues writes behind a running flush and commits them together afterwards", async () => {
    const { durability, insert, log, count } = setup();
    const first = insert(1);
    await turn();
    const later = [insert(2), insert(3), insert(4)];
    await turn();
    await turn();
    assert.equal(count(), 1, "no second commit while the first batch is flushing");
    durability.finish();
    assert.deepEqual(await first, 1);
    await turn();
    assert.equal(count(), 4, "the queued writes committed as one batch");
    assert.deepEqual(log, ["committed 1", "durable 1", "committed 2"]);
    durability.finish();
    assert.deepEqual(await Promise.all(later), [2, 3, 4]);
  });

  it("rejects every write of a batch whose flush failed, and carries on with the next", async () => {
    const { durability, insert, log } = setup();
    const failed = [insert(1), insert(2)];
    await turn();
    durability.finish(new Error("EIO"));
    for (const write of failed) await assert.rejects(write, /EIO/);
    assert.deepEqual(log, ["committed 1"], "listeners never hear of a batch that may not be on disk");
    const next = insert(3);
    await turn();
    durability.finish();
    assert.equal(await next, 3);
  });

  it("a write that throws rolls back alone; the rest of its batch commits", async () => {
    const { durability, commit, insert, count } = setup();
    const good = insert(1);
    const bad = commit.write(() => {
      throw new Error("bad input");
    });
    await turn();
    durability.finish();
    assert.equal(await good, 1);
    await assert.rejects(bad, /bad input/);
    assert.equal(count(), 1);
  });

  it("runs a batch without savepoints, and again with them only when a write throws", async () => {
    const durability = new ManualDurability();
    const statements: string[] = [];
    const traced = new Database(":memory:", { verbose: (sql) => statements.push(String(sql)) });
    traced.exec("CREATE TABLE t (v INTEGER NOT NULL)");
    let rollbacks = 0;
    const commit = new GroupCommit(traced, { rolledBack: () => rollbacks++ }, durability);
    const runs = new Map<number, number>();
    const insert = (v: number, fail = false) =>
      commit.write(() => {
        runs.set(v, (runs.get(v) ?? 0) + 1);
        traced.prepare("INSERT INTO t (v) VALUES (?)").run(v);
        if (fail) throw new Error(`bad ${v}`);
        return v;
      });
    const count = () => (traced.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;

    const clean = [insert(1), insert(2)];
    await turn();
    durability.finish();
    assert.deepEqual(await Promise.all(clean), [1, 2]);
    assert.equal(statements.filter((s) => /SAVEPOINT/i.test(s)).length, 0, "a batch where nothing throws uses no savepoint");
    assert.equal(rollbacks, 0);

    runs.clear();
    const mixed = [insert(3), insert(4, true), insert(5)];
    await turn();
    durability.finish();
    const settled = await Promise.allSettled(mixed);
    assert.deepEqual(settled.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.equal(rollbacks, 1, "the hook hears of the rolled-back first run");
    assert.deepEqual([...runs], [[3, 2], [4, 2], [5, 1]], "the first run stopped at the throw; the second ran every write");
    assert.equal(count(), 4, "3 and 5 committed once each, 4 not at all");
    assert.deepEqual((traced.prepare("SELECT v FROM t ORDER BY v").all() as Array<{ v: number }>).map((r) => r.v), [1, 2, 3, 5]);
    traced.close();
  });

  it("drained() waits for the flush, including writes queued by listeners meanwhile", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (v INTEGER NOT NULL)");
    const durability = new ManualDurability();
    let commit: GroupCommit;
    let chained = false;
    commit = new GroupCommit(
      db,
      {
        committed: () => () => {
          if (!chained) {
            chained = true;
            void commit.write(() => db.prepare("INSERT INTO t (v) VALUES (2)").run());
          }
        },
      },
      durability,
    );
    void commit.write(() => db.prepare("INSERT INTO t (v) VALUES (1)").run());
    let drained = false;
    const waiting = commit.drained().then(() => (drained = true));
    await turn();
    durability.finish();
    await turn();
    await turn();
    assert.equal(drained, false, "the write queued by the listener is still flushing");
    durability.finish();
    await waiting;
    assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 2);
  });
});

describe("WalSync", () => {
  it("flushes a real WAL file and coalesces requests made while a flush runs", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "parley-walsync-"));
    try {
      const file = path.join(dir, "x.db");
      const db = new Database(file);
      db.pragma("journal_mode = WAL");
      db.exec("CREATE TABLE t (v INTEGER)");
      const sync = WalSync.open(file);
      const order: number[] = [];
      await Promise.all(
        [1, 2, 3, 4].map(
          (n) => new Promise<void>((resolve, reject) => sync.sync((error) => (error ? reject(error) : (order.push(n), resolve())))),
        ),
      );
      assert.deepEqual(order, [1, 2, 3, 4], "callbacks run in request order");
      sync.close();
      await assert.rejects(new Promise<void>((resolve, reject) => sync.sync((error) => (error ? reject(error) : resolve()))), /closed/);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
