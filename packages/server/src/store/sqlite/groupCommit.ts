/**
 * Group commit for better-sqlite3: writes queued during one turn of the event loop run together in
 * one transaction, so N concurrent requests share one fsync instead of paying N.
 *
 * Each write runs inside its own savepoint: one that throws is rolled back alone and rejects alone,
 * the rest of the batch still commits. Promises resolve only after COMMIT returned, i.e. after the
 * data is on disk (the connection runs with synchronous=FULL).
 */
import type { Database, Transaction } from "better-sqlite3";

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly batch: Transaction<(items: Pending[]) => Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>>;
  private readonly savepoint: Transaction<(run: () => unknown) => unknown>;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(
    db: Database,
    private readonly hooks: { committed?: () => void; failed?: () => void } = {},
  ) {
    this.savepoint = db.transaction((run: () => unknown) => run());
    this.batch = db.transaction((items: Pending[]) =>
      items.map((item) => {
        try {
          return { ok: true as const, value: this.savepoint(item.run) };
        } catch (error) {
          return { ok: false as const, error };
        }
      }),
    );
  }

  /** Queues a synchronous write; resolves with its result once committed. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.idle = new Promise((done) => (this.markIdle = done));
        setImmediate(() => this.flush());
      }
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

  private flush(): void {
    const items = this.queue;
    // A commit hook may queue new writes, which start a new idle period: settle only this batch's.
    const markIdle = this.markIdle;
    this.queue = [];
    this.scheduled = false;
    let outcomes;
    try {
      outcomes = this.batch(items);
    } catch (error) {
      this.hooks.failed?.();
      for (const item of items) item.reject(error);
      markIdle();
      return;
    }
    this.hooks.committed?.();
    outcomes.forEach((outcome, i) => (outcome.ok ? items[i]!.resolve(outcome.value) : items[i]!.reject(outcome.error)));
    markIdle();
  }
}
