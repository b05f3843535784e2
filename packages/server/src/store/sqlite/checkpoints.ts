/**
 * Moves WAL checkpoints off the event loop.
 *
 * SQLite checkpoints inside COMMIT once the WAL passes `wal_autocheckpoint` pages (1,000 by
 * default): it copies every page written since the last checkpoint into the database file and
 * fsyncs it, on the connection that committed, which here is the event loop. Measured on a
 * 1,000-member thread (every message writes ~1,000 pages of per-user logs): 147 ms per message
 * with checkpoints in COMMIT, 45 ms without.
 *
 * A worker thread with its own connection runs PASSIVE checkpoints instead, shortly after commits.
 * The main connection keeps a much higher autocheckpoint as a backstop: under writes that never
 * pause, a background checkpoint can never finish the WAL's last frames (new ones keep arriving),
 * so the WAL would never restart; at the cap, COMMIT checkpoints the remainder (little, since the
 * worker copied the rest) and the next write starts the WAL over.
 */
import { Worker } from "node:worker_threads";
import type { Database as Db } from "better-sqlite3";

export interface CheckpointOptions {
  /** How often the worker looks for new commits. */
  intervalMs: number;
  /** The main connection's own checkpoint threshold, in pages. */
  capPages: number;
}

export const DEFAULT_CHECKPOINTS: CheckpointOptions = { intervalMs: 100, capPages: 8192 };

export class BackgroundCheckpoints {
  private readonly commits = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;

  constructor(db: Db, path: string, options: CheckpointOptions = DEFAULT_CHECKPOINTS) {
    db.pragma(`wal_autocheckpoint = ${options.capPages}`);
    // Once the WAL starts over, a file grown past the cap is cut back to it.
    db.pragma(`journal_size_limit = ${options.capPages * (db.pragma("page_size", { simple: true }) as number)}`);
    this.worker = new Worker(new URL("./checkpointWorker.js", import.meta.url), {
      workerData: { path, commits: this.commits, intervalMs: options.intervalMs },
    });
    this.exited = new Promise((resolve) => this.worker.once("exit", resolve));
    // A worker that fails leaves checkpoints to the main connection's cap; it must not crash Parley.
    this.worker.on("error", () => {});
    this.worker.unref();
  }

  /** After each commit: there is something to checkpoint. */
  committed(): void {
    Atomics.add(this.commits, 0, 1);
  }

  /** Stops the worker and waits until its connection is closed. */
  async close(): Promise<void> {
    this.worker.ref(); // until it has exited, or the process could end with close() still pending
    this.worker.postMessage("stop");
    await this.exited;
  }
}
