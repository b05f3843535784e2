/**
 * Group commit for better-sqlite3: writes queued while the previous batch was being flushed run
 * together in one transaction, so N concurrent requests share one COMMIT and one fsync.
 *
 * A write that throws is rolled back alone and rejects alone; the rest of its batch still commits.
 * Writes rarely throw (refusals are returned as values), so a batch first runs without savepoints,
 * which cost two statements per write (6-18 µs of 60-80 per message in a store microbenchmark,
 * docs/benchmarks.md round 5); only when a write throws is the batch rolled back and run again with
 * one savepoint per write. Write functions must therefore touch nothing but the database, or undo
 * what they did elsewhere when rolled back (`rolledBack` below). Promises resolve only once the
 * batch is durable: COMMIT returned, then `durability.sync` (an fdatasync of the WAL off the event
 * loop, see walSync.ts) reported it on disk.
 *
 * At most one batch is between COMMIT and durable at a time. While it flushes, new writes queue up
 * and commit together when it ends, so batches grow with load instead of paying one WAL append per
 * event-loop turn; the event loop stays free for requests the whole time.
 */
import type { Database, Transaction } from "better-sqlite3";
import { NO_DURABILITY, type Durability } from "./walSync.js";

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitHooks {
  /**
   * Runs right after a batch's COMMIT, synchronously (so it can take the batch's bookkeeping before
   * the next batch starts); what it returns runs once the batch is durable, before any write of the
   * batch resolves.
   */
  committed?: () => (() => void) | void;
  /**
   * Runs whenever a batch's transaction was rolled back: before it is run again one savepoint per
   * write, and when it failed as a whole.
   */
  rolledBack?: () => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing = false;
  /** Runs a batch with no savepoints: any write that throws rolls back the whole batch. */
  private readonly optimistic: Transaction<(items: Pending[]) => Outcome[]>;
  /** Runs a batch with one savepoint per write, so a write that throws rolls back alone. */
  private readonly isolated: Transaction<(items: Pending[]) => Outcome[]>;
  /** Whether any write is queued, committing or flushing; `idle` resolves when that ends. */
  private busy = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(
    db: Database,
    private readonly hooks: GroupCommitHooks = {},
    private readonly durability: Durability = NO_DURABILITY,
  ) {
    this.optimistic = db.transaction((items: Pending[]) => items.map((item) => ({ ok: true as const, value: item.run() })));
    const savepoint = db.transaction((run: () => unknown) => run());
    this.isolated = db.transaction((items: Pending[]) =>
      items.map((item) => {
        try {
          return { ok: true as const, value: savepoint(item.run) };
        } catch (error) {
          return { ok: false as const, error };
        }
      }),
    );
  }

  /** Queues a synchronous write; resolves with its result once committed and on disk. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.busy) {
        this.busy = true;
        this.idle = new Promise((done) => (this.markIdle = done));
      }
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves when every write queued so far, and any queued by commit hooks meanwhile, has settled. */
  async drained(): Promise<void> {
    // Writes queued by commit hooks while we wait start a new idle period: wait for those too.
    let current: Promise<void>;
    do {
      current = this.idle;
      await current;
    } while (this.idle !== current);
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.queue.length === 0) return;
    this.scheduled = true;
    // One turn of the event loop lets the requests already read queue their writes too.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.queue;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.run(items);
    } catch (error) {
      this.hooks.rolledBack?.();
      for (const item of items) item.reject(error);
      return this.settled();
    }
    const afterDurable = this.hooks.committed?.();
    this.flushing = true;
    this.durability.sync((error) => {
      this.flushing = false;
      if (error) {
        // Committed but maybe not on disk: no 2xx may say otherwise. The data stays committed (a
        // later flush may still persist it); a retried request meets it as already done.
        for (const item of items) item.reject(error);
      } else {
        afterDurable?.();
        outcomes.forEach((outcome, i) => (outcome.ok ? items[i]!.resolve(outcome.value) : items[i]!.reject(outcome.error)));
      }
      this.settled();
    });
  }

  /** Commits a batch: without savepoints if no write throws, else again with them. Throws if it failed as a whole. */
  private run(items: Pending[]): Outcome[] {
    try {
      return this.optimistic(items);
    } catch {
      // Rolled back whole (better-sqlite3 rolls back when the function throws); which write threw
      // and whether the others are fine is what the isolated run finds out.
      this.hooks.rolledBack?.();
      return this.isolated(items);
    }
  }

  /** After a batch settled: start the next one, or mark the committer idle. */
  private settled(): void {
    if (this.queue.length > 0) this.schedule();
    else if (!this.scheduled && !this.flushing) {
      this.busy = false;
      this.markIdle();
    }
  }
}
