/**
 * Makes commits durable without holding the event loop.
 *
 * The connection runs WAL with synchronous=NORMAL: COMMIT appends the transaction's frames to the
 * -wal file (into the OS page cache) and returns without fsync. Durability then comes from here:
 * fdatasync of the -wal file on libuv's thread pool, so the event loop keeps parsing requests and
 * preparing the next batch while the disk flushes. A write is acknowledged only after an fdatasync
 * that *started after its COMMIT* has completed, which is exactly what synchronous=FULL guarantees,
 * minus the blocked event loop. (Checkpoints still sync the WAL and the database themselves, as
 * SQLite does at every synchronous level; a WAL reset after a checkpoint rewrites frames from the
 * start of the same file, which the next fdatasync covers.)
 *
 * Requests that arrive while an fdatasync is running wait for the next one, which starts when the
 * running one ends: many batches share one flush.
 */
import fs from "node:fs";
import path from "node:path";

export interface Durability {
  /** Calls `done` once everything committed before this call is on disk. */
  sync(done: (error: Error | null) => void): void;
  close(): void;
}

/** For ":memory:" databases: nothing to flush. */
export const NO_DURABILITY: Durability = {
  sync: (done) => done(null),
  close: () => {},
};

export class WalSync implements Durability {
  private running = false;
  private waiting: Array<(error: Error | null) => void> = [];
  private closed = false;

  private constructor(private readonly fd: number) {}

  /**
   * Opens the -wal file of a database already in WAL mode (the caller makes sure it exists), and
   * flushes the directory once so the file's own entry survives a power loss.
   */
  static open(databasePath: string): WalSync {
    const walPath = `${databasePath}-wal`;
    const fd = fs.openSync(walPath, "r+");
    const dir = fs.openSync(path.dirname(path.resolve(databasePath)), "r");
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
    return new WalSync(fd);
  }

  sync(done: (error: Error | null) => void): void {
    if (this.closed) return done(new Error("database closed"));
    this.waiting.push(done);
    if (!this.running) this.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A running flush closes the file when it (and whatever queued behind it) ends.
    if (!this.running) fs.closeSync(this.fd);
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    fs.fdatasync(this.fd, (error) => {
      this.running = false;
      for (const done of batch) done(error);
      // Waiters queued before close() committed before it: they still get their flush.
      if (this.waiting.length > 0) return this.flush();
      if (this.closed) fs.closeSync(this.fd);
    });
  }
}
